"""Sending an archived brief to its stakeholders by email, exactly once.

One message per audience (`[email]` to/cc/bcc, and each `[email.audiences.NAME]`),
with the PDF attached, an HTML body and a plain-text alternative from the email
templates. The message is built from the snapshot alone, like `rerender`.

Every attempt is recorded in the snapshot's `deliveries/log.json`: when, to whom,
the Message-ID, what the server answered, and who it refused. That record is what
makes sending safe to repeat: a recipient who has the message is not sent it again
unless asked (`--resend`), and after a partial failure the next send goes only to
those who did not get it. The record lives beside the snapshot's files, outside its
manifest, so writing it never breaks `archive verify`.

Temporary failures (a 4xx reply, a dropped connection, a timeout) are retried with
a doubling wait; permanent ones (a 5xx reply, refused credentials) stop at once.
Credentials come from environment variables named in the config, and appear in no
file, log or message.

A failed `run` sends a short plain-text notice to `[email] notify_on_failure` through the
same server and code (`notify`): what the terminal said, where, and what to do; never
the data, a credential or an attachment.
"""

from __future__ import annotations

import hashlib
import json
import os
import smtplib
import socket
import ssl
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from functools import partial
from pathlib import Path
from typing import Any

from reportgen import interrupt, names
from reportgen.archive import DELIVERIES, Entry, check_intact, find, read_json, report_lock
from reportgen.config import Audience, Config, EmailSettings
from reportgen.config_checks import header_text
from reportgen.errors import ConfigError, DeliveryError, ReportgenError, SnapshotError
from reportgen.findings import Findings, load_findings
from reportgen.formatting import Formatter
from reportgen.fsutil import read_small, write_bytes
from reportgen.plain import plain
from reportgen.profile import highlights
from reportgen.records import from_plain, to_plain
from reportgen.render import title_for, wording_for
from reportgen.templating import environment, render_user, sandbox
from reportgen.wording import ENGLISH, N_, Wording

LOG = "log.json"
TEXT_TEMPLATE = "email.txt.j2"
HTML_TEMPLATE = "email.html.j2"


class AlreadySent(ReportgenError):
    """Every recipient already has this period's brief (exit code 2; --resend to repeat)."""


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One message handed to the server, for one audience."""

    audience: str
    at: str
    message_id: str
    subject: str
    accepted: tuple[str, ...]
    """Envelope recipients the server took."""
    refused: Mapping[str, str]
    """Envelope recipient -> the server's reply refusing it."""
    reply: str
    """The server's answer to the message itself (empty when nobody was accepted)."""
    attempts: int
    pdf_sha256: str
    """Which PDF was sent: a re-render changes it."""
    resend: bool = False
    status: str = "sent"
    """sent; unknown: the connection dropped after the message was handed over, so it
    may have arrived; or pending: recorded before the message was handed over, and the
    outcome could not be recorded after. Unknown and pending are never re-sent
    automatically (a person decides)."""


@dataclass(frozen=True)
class Outcome:
    deliveries: tuple[Delivery, ...] = ()
    skipped: tuple[str, ...] = ()
    """Audiences every member of which already had the brief."""
    drafts: tuple[Path, ...] = ()
    """Messages written as .eml by a dry run."""
    failures: tuple[str, ...] = ()
    """One line per audience that could not be delivered to everyone."""


def read_log(snapshot: Path) -> list[Delivery]:
    path = snapshot / DELIVERIES / LOG
    if path.is_dir() or not (path.exists() or path.is_symlink()):
        return []  # none yet (a folder in its place fails when the record is written)
    try:  # a pipe, a device link or deep nesting is an unreadable record, not a hang
        records = read_json(path)["deliveries"]
        return [from_plain(Delivery, record) for record in records]
    except (SnapshotError, ValueError, KeyError, TypeError) as exc:
        raise DeliveryError(
            f"{path} cannot be read ({exc}); it is the record of who has the brief, so "
            "nothing is sent until it is restored or removed"
        ) from None


def _write_log(snapshot: Path, log: list[Delivery]) -> None:
    text = json.dumps({"deliveries": to_plain(log)}, indent=2, ensure_ascii=False) + "\n"
    write_bytes(snapshot / DELIVERIES / LOG, text.encode("utf-8"))


def _record(snapshot: Path, log: list[Delivery], meanwhile: str) -> None:
    """Write the delivery record, or stop with one line saying what happened meanwhile."""
    try:
        _write_log(snapshot, log)
    except OSError as exc:
        raise DeliveryError(
            f"the delivery record {snapshot / DELIVERIES / LOG} cannot be written "
            f"({exc.strerror or exc}); {meanwhile}. Fix the folder, then run "
            "`reportgen send` again"
        ) from None


def reached(log: list[Delivery], audience: str) -> set[str]:
    """Envelope addresses of `audience` that a server has accepted this period's brief for."""
    return {address for d in log if d.audience == audience for address in d.accepted}


# --- the message ------------------------------------------------------------------------


def _context(
    entry: Entry, findings: Findings, config: Config, language: Wording = ENGLISH
) -> dict[str, Any]:
    profiles = json.loads((entry.path / "profiles.json").read_text(encoding="utf-8"))
    personas = {int(s["id"]): s for s in profiles["segments"]}  # as named when archived
    marks = highlights(findings.profiles)
    shown = findings.rules.segments if findings.rules else ()
    rules = {r.segment: r for r in shown if r.status == "rule"}
    segments = [
        {
            "id": s.id,
            "name": personas[s.id].get("persona")
            or language.gettext(N_("Segment %(id)s")) % {"id": s.id},
            "size": s.size,
            "share": s.share,
            "revenue_share": s.revenue_share,
            "change": findings.changes.get(s.id),
            "suppressed": s.suppressed,
            "recommendation": (personas[s.id].get("recommendations") or [""])[0],
            "rule": rules.get(s.id),
        }
        for s in findings.profiles.segments
    ]
    by_id = {s["id"]: s for s in segments}
    focus = [i for i in dict.fromkeys((marks.at_risk, marks.most_valuable, marks.largest)) if i]
    return {
        "report": config.report,
        "title": title_for(config, language),
        "lang": language.language,
        "company": config.report.company,
        "period": findings.period,
        "generated": findings.generated,
        "customers": findings.profiles.customers,
        "segments": segments,
        "k": len(segments),
        "focus": [by_id[i] for i in focus],
        "migration": findings.migration,
        "attachment": _attachment_name(entry),
    }


def _attachment_name(entry: Entry) -> str:
    return f"{entry.report}-{entry.period}.pdf"


def compose(
    entry: Entry,
    findings: Findings,
    config: Config,
    audience: Audience,
    pdf: bytes,
    now: datetime,
) -> EmailMessage:
    """The complete message for one audience: headers, text and HTML bodies, attachments."""
    settings = config.email
    report = config.report
    formatter = Formatter.for_report(report)
    language = wording_for(config)
    context = plain(_context(entry, findings, config, language))
    subject = render_user(
        partial(sandbox(formatter).from_string, settings.subject), context, "[email] subject"
    )
    subject = header_text("[email] subject (as rendered)", " ".join(subject.split()))
    env = environment(config, formatter, language)
    text, html = (
        render_user(partial(env.get_template, name), context, f"email template {name}")
        for name in (TEXT_TEMPLATE, HTML_TEMPLATE)
    )
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(audience.to)
    if audience.cc:
        message["Cc"] = ", ".join(audience.cc)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=parseaddr(settings.sender or "")[1].split("@")[-1])
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=_attachment_name(entry)
    )
    if settings.attach_html:
        message.add_attachment(
            (entry.path / "report.html").read_bytes(),
            maintype="text",
            subtype="html",
            filename=_attachment_name(entry).removesuffix(".pdf") + ".html",
        )
    return message


# --- talking to the server ----------------------------------------------------------------


class _Temporary(Exception):
    """Worth another try: a 4xx reply, a dropped connection, a timeout."""


class _Unknown(Exception):
    """The connection failed after the message data was sent: it may have been delivered."""

    def __init__(self, accepted: list[str], refused: dict[str, str], why: str) -> None:
        super().__init__(why)
        self.accepted, self.refused = accepted, refused
        self.attempt = 1
        """Which attempt it was (set by send_one): earlier ones failed before the data."""


def _reply(code: int, text: bytes | str) -> str:
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(body.split())}"


def _credentials(settings: EmailSettings) -> tuple[str, str] | None:
    if settings.username_env is None and settings.password_env is None:
        return None
    values = []
    for key in ("username_env", "password_env"):
        name = getattr(settings, key)
        if name is None:
            raise ConfigError(f"[email] {key} is needed when the other credential is set")
        value = os.environ.get(name)
        if not value:
            raise ConfigError(f"[email] {key}: the environment variable {name} is not set")
        values.append(value)
    return values[0], values[1]


@contextmanager
def _connect(
    settings: EmailSettings, credentials: tuple[str, str] | None
) -> Iterator[smtplib.SMTP]:
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    host, port, timeout = settings.host, settings.server_port, settings.timeout
    if settings.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    try:
        server.ehlo()
        if settings.security == "starttls":
            if not server.has_extn("starttls"):
                raise DeliveryError(
                    f"{host}:{port} does not offer STARTTLS, so the message would travel in "
                    'clear text; use security = "ssl" if the server expects TLS from the start'
                )
            server.starttls(context=context)
            server.ehlo()
        if credentials is not None:
            server.login(*credentials)
        yield server
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()


_ACCEPTED = (250, 251, 252)
"""RCPT replies that take the recipient: 252 is "cannot verify the mailbox, but will
accept the message and attempt delivery" (RFC 5321), an acceptance, not a refusal."""


def _transmit(
    settings: EmailSettings,
    credentials: tuple[str, str] | None,
    message: EmailMessage,
    recipients: list[str],
) -> tuple[list[str], dict[str, str], str]:
    """One attempt: accepted and refused recipients, and the reply to the data."""
    with _server_errors(settings), _connect(settings, credentials) as server:
        accepted, refused = _envelope(server, parseaddr(settings.sender or "")[1], recipients)
        if not accepted:
            return [], refused, ""
        return accepted, refused, _hand_over(server, message, accepted, refused)


@contextmanager
def _server_errors(settings: EmailSettings) -> Iterator[None]:
    """The server's and the network's exceptions as this module's: a DeliveryError (a
    permanent failure, in one line) or a _Temporary (worth another try)."""
    try:
        yield
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"{settings.host} refused the credentials from ${settings.username_env} and "
            f"${settings.password_env}: {_reply(exc.smtp_code, exc.smtp_error)}"
        ) from None
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise _Temporary(_reply(exc.smtp_code, exc.smtp_error)) from None
        raise DeliveryError(
            f"{settings.host} answered {_reply(exc.smtp_code, exc.smtp_error)}"
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError(
            f"the certificate of {settings.host} cannot be trusted ({exc.verify_message}); "
            "if it is your company's own, point [email] ca_file at its CA"
        ) from None
    except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError, OSError) as exc:
        raise _Temporary(f"{type(exc).__name__}: {exc}") from None
    except smtplib.SMTPException as exc:  # e.g. credentials set but the server has no AUTH
        raise DeliveryError(f"{settings.host}: {exc}") from None


def _envelope(
    server: smtplib.SMTP, sender: str, recipients: list[str]
) -> tuple[list[str], dict[str, str]]:
    """MAIL FROM and RCPT TO: the recipients the server accepted, and those it refused
    with its reply. Nobody accepted and someone only deferred is worth another try."""
    code, text = server.mail(sender)
    if code >= 400:
        server.rset()
        error = _reply(code, text)
        if code < 500:
            raise _Temporary(f"the server answered MAIL FROM with {error}")
        raise DeliveryError(f"the server refused the sender {sender}: {error}")
    accepted: list[str] = []
    refused: dict[str, str] = {}
    deferred = False
    for address in recipients:
        code, text = server.rcpt(address)
        if code in _ACCEPTED:
            accepted.append(address)
            continue
        refused[address] = _reply(code, text)
        deferred = deferred or code < 500
    if not accepted:
        server.rset()
        if deferred:
            raise _Temporary(f"every recipient was deferred: {refused}")
    return accepted, refused


def _hand_over(
    server: smtplib.SMTP, message: EmailMessage, accepted: list[str], refused: dict[str, str]
) -> str:
    """DATA: the server's reply to the message. A connection lost (or the run stopped)
    while the message goes out leaves it unknown whether it arrived."""
    try:
        code, text = server.data(message.as_bytes())
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise _Unknown(accepted, refused, f"{type(exc).__name__}: {exc}") from None
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while the message was going out
        raise _Unknown(accepted, refused, "interrupted while handing it over") from None
    reply = _reply(code, text)
    if code >= 500:
        raise DeliveryError(f"the server refused the message: {reply}")
    if code >= 400:
        raise _Temporary(f"the server deferred the message: {reply}")
    return reply


def send_one(
    settings: EmailSettings,
    credentials: tuple[str, str] | None,
    message: EmailMessage,
    recipients: list[str],
) -> tuple[list[str], dict[str, str], str, int]:
    """Send with retries; the accepted, refused, final reply and number of attempts."""
    wait = settings.retry_wait
    for attempt in range(1, settings.retries + 2):
        try:
            accepted, refused, reply = _transmit(settings, credentials, message, recipients)
            return accepted, refused, reply, attempt
        except _Unknown as lost:
            lost.attempt = attempt
            raise
        except _Temporary as exc:
            if attempt > settings.retries:
                raise DeliveryError(
                    f"{settings.host}:{settings.server_port} did not take the message after "
                    f"{attempt} attempts; last: {exc}"
                ) from None
            time.sleep(wait)
            wait *= 2
    raise AssertionError("unreachable")


# --- the command ----------------------------------------------------------------------------


def _check_ready(settings: EmailSettings, pdf: bytes) -> None:
    if settings.ca_file is not None:  # a pipe there would hang the TLS set-up mid-send
        read_small(settings.ca_file, "[email] ca_file:")
    if settings.sender is None:
        raise ConfigError("[email] from is missing: the address the brief is sent from")
    if not settings.audiences:
        raise ConfigError(
            "[email] has no recipients: set to (and optionally cc, bcc), or "
            "[email.audiences.NAME] tables"
        )
    limit = settings.max_attachment_mb * 1024 * 1024
    if len(pdf) > limit:
        raise ConfigError(
            f"report.pdf is {len(pdf) / 1024 / 1024:.1f} MB, over [email] max_attachment_mb "
            f"= {settings.max_attachment_mb:g}; nothing was sent. Raise the limit if your "
            "mail server accepts larger messages"
        )


def send(
    out: Path,
    slug: str,
    period: str,
    config: Config,
    resend: bool = False,
    dry_run: bool = False,
) -> Outcome:
    """Send the archived brief of `period` to every audience that does not have it yet."""
    settings = config.email
    with report_lock(out, slug):
        entry = _open_snapshot(out, slug, period)
        pdf = (entry.path / "report.pdf").read_bytes()
        _check_ready(settings, pdf)
        credentials = None if dry_run else _credentials(settings)
        findings = load_findings(entry.path)
        log = read_log(entry.path)
        plan = []
        for audience in settings.audiences:
            done = set() if resend or dry_run else reached(log, audience.name)
            plan.append((audience, [a for a in audience.recipients if a not in done]))
        if not any(pending for _, pending in plan):
            raise _already_sent(entry, log)
        mailing = _Mailing(
            entry=entry,
            findings=findings,
            config=config,
            pdf=pdf,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            credentials=credentials,
            resend=resend,
        )
        deliveries, skipped, drafts, failures = [], [], [], []
        for audience, pending in plan:
            interrupt.check()  # an interrupt during the last message stops here, recorded
            if not pending:
                skipped.append(audience.name)
            elif dry_run:
                drafts.append(_draft(mailing, audience))
            else:
                delivery, failure = _deliver(mailing, audience, pending, log)
                deliveries += [delivery] if delivery is not None else []
                failures += [failure] if failure is not None else []
    return Outcome(tuple(deliveries), tuple(skipped), tuple(drafts), tuple(failures))


def _open_snapshot(out: Path, slug: str, period: str) -> Entry:
    """The snapshot to send, intact, with a delivery record that can be written."""
    entry = find(out, slug, period)
    check_intact(entry, "the snapshot")
    if (entry.path / DELIVERIES).is_symlink():  # the record is written, never through a link
        raise SnapshotError(
            f"{entry.path / DELIVERIES} is a link; the delivery record must be a folder of "
            "the snapshot: replace the link with the folder it points to"
        )
    return entry


def _already_sent(entry: Entry, log: list[Delivery]) -> AlreadySent:
    """The refusal to send again, naming those for whom it is unknown whether it arrived."""
    last = max((d.at for d in log), default="")
    unknown = sorted({a for d in log if d.status in ("unknown", "pending") for a in d.accepted})
    doubt = (
        f"; whether it reached {', '.join(unknown)} is unknown (the connection dropped),"
        " so ask them first"
        if unknown
        else ""
    )
    return AlreadySent(
        f"{entry.path} was already sent to every recipient (last on {last}){doubt}; "
        "pass --resend to send it again"
    )


@dataclass(frozen=True, kw_only=True)
class _Mailing:
    """What every message of one `send` shares."""

    entry: Entry
    findings: Findings
    config: Config
    pdf: bytes
    pdf_sha256: str
    credentials: tuple[str, str] | None
    resend: bool

    def compose(self, audience: Audience, now: datetime) -> EmailMessage:
        """`audience`'s message, dated `now`: the same moment its record gives."""
        return compose(self.entry, self.findings, self.config, audience, self.pdf, now)

    def intent(
        self, audience: Audience, message: EmailMessage, now: datetime, pending: list[str]
    ) -> Delivery:
        """The record of a message about to be handed over: status pending."""
        return Delivery(
            audience=audience.name,
            at=now.isoformat(timespec="seconds"),
            message_id=str(message["Message-ID"]),
            subject=str(message["Subject"]),
            accepted=tuple(pending),
            refused={},
            reply="",
            attempts=0,
            pdf_sha256=self.pdf_sha256,
            resend=self.resend,
            status="pending",
        )


def _draft(mailing: _Mailing, audience: Audience) -> Path:
    """A dry run's message for `audience`, written as .eml into the snapshot's deliveries/."""
    moment = datetime.now(UTC)
    message = mailing.compose(audience, moment)
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    path = mailing.entry.path / DELIVERIES / f"{stamp}-{audience.name}.eml"
    write_bytes(path, message.as_bytes())
    return path


def _deliver(
    mailing: _Mailing, audience: Audience, pending: list[str], log: list[Delivery]
) -> tuple[Delivery | None, str | None]:
    """Send `audience` its message, recorded in `log` (and its file) before and after: the
    delivery (None when nothing was handed over) and the failure line, if any."""
    folder = mailing.entry.path
    moment = datetime.now(UTC)
    message = mailing.compose(audience, moment)
    # The intent is recorded before the message is handed over, so a record that cannot
    # be written stops the send before anything leaves, and a crash or a failed write
    # afterwards leaves a record the next send will not repeat.
    intent = mailing.intent(audience, message, moment, pending)
    _record(folder, [*log, intent], "nothing was sent")
    try:
        accepted, refused, reply, attempts = send_one(
            mailing.config.email, mailing.credentials, message, pending
        )
        status, failure = "sent", _refusals(audience, refused)
    except DeliveryError as exc:
        _record(folder, log, "the message was not sent")
        return None, f"{audience.name}: {exc}"
    except KeyboardInterrupt:  # before the data: nothing left, so no intent stays
        _record(folder, log, "the message was not sent")
        raise
    except _Unknown as lost:
        accepted, refused, status = lost.accepted, lost.refused, "unknown"
        attempts = lost.attempt
        reply = f"connection lost after the message was sent ({lost})"
        failure = (
            f"{audience.name}: the connection dropped after the message was handed to "
            f"the server ({lost}), so it may or may not have reached "
            f"{', '.join(accepted)}. It is recorded as unknown and will not be sent "
            "again automatically: ask the recipients, and if it did not arrive run "
            "`reportgen send --resend`"
        )
    delivery = replace(
        intent,
        accepted=tuple(accepted),
        refused=refused,
        reply=reply,
        attempts=attempts,
        status=status,
    )
    log.append(delivery)
    _record(  # after every message: a crash loses no record
        folder,
        log,
        f"the message was handed to the server for {', '.join(accepted) or 'nobody'}; "
        "it stays recorded as pending, so it is not sent again automatically",
    )
    return delivery, failure


def _refusals(audience: Audience, refused: Mapping[str, str]) -> str | None:
    """The failure line for recipients the server refused, who the next send goes to."""
    if not refused:
        return None
    return (
        f"{audience.name}: refused "
        + "; ".join(f"{a} ({why})" for a, why in refused.items())
        + ". The next `reportgen send` goes only to them"
    )


# --- failure notices --------------------------------------------------------------------

NOTICE_TEMPLATE = "failure.txt.j2"
NOTICE_RETRIES = 1
"""A failure notice is retried once at most (never more than [email] retries): the run
has failed already, and a scheduler waits for it to end."""
_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bug:
    """Where a bug surfaced, told without the exception's message, which may quote the
    data (a KeyError names the missing key, a ValueError the value it could not read)."""

    kind: str
    """The exception's type: "KeyError", or "module.Name" outside the built-ins."""
    place: str
    """The module file and line of the innermost reportgen frame: "pipeline.py:275"."""

    @classmethod
    def of(cls, exc: BaseException) -> Bug:
        kind, module = type(exc).__qualname__, type(exc).__module__
        name = kind if module == "builtins" else f"{module}.{kind}"
        ours = [
            frame
            for frame in traceback.extract_tb(exc.__traceback__)
            if Path(frame.filename).resolve().is_relative_to(_PACKAGE)
        ]
        place = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "unknown"
        return cls(name, place)


@dataclass(frozen=True, kw_only=True)
class Failure:
    """A failed `run`, as its notice tells it: what the terminal said, never the data."""

    slug: str
    period: str
    code: int
    """The run's exit status: 2 a problem to fix, 3 the server or cluster, 1 a bug."""
    errors: tuple[str, ...] = ()
    """The lines the command printed after `reportgen: error: `."""
    bug: Bug | None = None


@dataclass(frozen=True)
class Notice:
    """A failure notice the server took."""

    message_id: str
    accepted: tuple[str, ...]


def compose_notice(config: Config, failure: Failure, host: str, now: datetime) -> EmailMessage:
    """The failure notice: one plain-text part from failure.txt.j2, in the brief's
    language, and a subject a mail filter can match ("reportgen: SLUG PERIOD failed (exit N)")."""
    settings = config.email
    period = failure.period if names.is_period(failure.period) else "(invalid period)"
    context = {
        "slug": failure.slug,
        "period": period,
        "host": host,
        "code": failure.code,
        "errors": list(failure.errors),
        "bug": {"kind": failure.bug.kind, "place": failure.bug.place} if failure.bug else None,
    }
    message = EmailMessage(policy=SMTP)
    message["Subject"] = header_text(
        "the failure notice's subject",
        f"reportgen: {failure.slug} {period} failed (exit {failure.code})",
    )
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.notify_on_failure)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=parseaddr(settings.sender or "")[1].split("@")[-1])
    message.set_content(_notice_text(config, context))
    return message


def _notice_text(config: Config, context: Mapping[str, Any]) -> str:
    """The notice's body. A folder of the user's templates that cannot be used (it may be
    what failed the run) gives way to the bundled wording: the notice must still go."""
    try:
        return _render_notice(config, context)
    except ReportgenError:
        if config.report.templates is None:
            raise
        bundled = replace(config, report=replace(config.report, templates=None))
        return _render_notice(bundled, context)


def _render_notice(config: Config, context: Mapping[str, Any]) -> str:
    env = environment(config, Formatter.for_report(config.report), wording_for(config))
    where = f"failure notice template {NOTICE_TEMPLATE}"
    return render_user(partial(env.get_template, NOTICE_TEMPLATE), context, where)


def notify(config: Config, failure: Failure) -> Notice:
    """Send `failure`'s notice to [email] notify_on_failure through the brief's server,
    settings and connection code, retried at most NOTICE_RETRIES times. Raises
    DeliveryError (or ConfigError: a credential variable unset) when it cannot be sent,
    or when the server refused any of the addresses."""
    settings = config.email
    if settings.ca_file is not None:  # a pipe there would hang the TLS set-up
        read_small(settings.ca_file, "[email] ca_file:")
    credentials = _credentials(settings)
    message = compose_notice(config, failure, socket.gethostname(), datetime.now(UTC))
    brief = replace(settings, retries=min(settings.retries, NOTICE_RETRIES))
    watchers = Audience(name="notify_on_failure", to=settings.notify_on_failure)
    try:
        accepted, refused, _, _ = send_one(brief, credentials, message, list(watchers.recipients))
    except _Unknown as lost:
        raise DeliveryError(
            f"the connection dropped after the notice was handed over ({lost}); it may not "
            "have arrived"
        ) from None
    if refused:
        raise DeliveryError(
            "the server refused " + "; ".join(f"{a} ({why})" for a, why in refused.items())
        )
    return Notice(str(message["Message-ID"]), tuple(accepted))
