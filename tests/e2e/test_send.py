"""`reportgen send`: the brief emailed through a real SMTP server on loopback (aiosmtpd).

Each test gets a fresh copy of one archived snapshot and a server on 127.0.0.1 whose
replies it scripts: plain, or STARTTLS with AUTH and a self-signed certificate made
here and trusted through the config.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import assert_user_error, rule_text, run_cli

PERIOD = "2026-11"
SLUG = "customer-segments"
TO = ["ann@example.com", "Bob Stone <bob@example.com>"]
CC = ["cat@example.com"]
BCC = ["dan@example.com"]
ENVELOPE = ["ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com"]
USER, PASSWORD = "reports", "s3cret-Pa55"


class Recorder:
    """An SMTP handler that keeps every message and answers as the test scripts it."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.data_replies: list[str] = []  # used in turn before accepting
        self.data_calls = 0
        self.refuse: set[str] = set()
        self.unverified: set[str] = set()  # answered 252: accepted without verifying
        self.logins = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        if address in self.unverified:
            return "252 2.1.5 Cannot VRFY user, but will accept message and attempt delivery"
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_calls += 1
        if self.data_replies:
            reply = self.data_replies.pop(0)
            if reply == "hang up":  # the data arrived, the reply never leaves
                server.transport.close()
            return reply
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins += 1
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (USER, PASSWORD)
        return AuthResult(success=ok, handled=False)  # the server sends 235 or 535 itself


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def archived(tmp_path_factory) -> Path:
    """One run's output folder, copied afresh into every test."""
    folder = tmp_path_factory.mktemp("archived")
    result = run_cli("run", "--period", PERIOD, "--quiet", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "output"


@pytest.fixture
def project(tmp_path, archived) -> Path:
    shutil.copytree(archived, tmp_path / "output")
    return tmp_path


@pytest.fixture
def plain():
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@contextlib.contextmanager
def secure_server(folder: Path) -> Iterator[tuple[Recorder, int, Path]]:
    """A server on loopback that asks what a real one does: STARTTLS, then AUTH, with a
    self-signed certificate made in `folder` (trusted through the config's ca_file)."""
    cert, key = certificate(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Recorder()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=handler.authenticate,
    )
    controller.start()
    try:
        yield handler, controller.port, cert
    finally:
        controller.stop()


@pytest.fixture
def secure(tmp_path):
    with secure_server(tmp_path) as server:
        yield server


def configure(project: Path, port: int, extra: str = "", security: str = "none") -> None:
    (project / "reportgen.toml").write_text(
        "[email]\n"
        'from = "Reports <reports@example.com>"\n'
        f"to = {json.dumps(TO)}\ncc = {json.dumps(CC)}\nbcc = {json.dumps(BCC)}\n"
        f'host = "127.0.0.1"\nport = {port}\nsecurity = "{security}"\n'
        "timeout = 5\nretries = 2\nretry_wait = 0.05\n" + extra
    )


def snapshot_files(project: Path) -> dict[str, str]:
    folder = project / "output" / SLUG / PERIOD
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


def log(project: Path) -> list[dict]:
    path = project / "output" / SLUG / PERIOD / "deliveries" / "log.json"
    return json.loads(path.read_text())["deliveries"] if path.exists() else []


def test_the_brief_arrives_once_with_the_archived_pdf(project, plain):
    handler, port = plain
    configure(project, port)
    before = snapshot_files(project)
    result = run_cli("send", cwd=project)
    assert result.returncode == 0, result.stderr
    assert len(handler.messages) == 1
    sender, recipients, raw = handler.messages[0]
    assert sender == "reports@example.com" and sorted(recipients) == ENVELOPE
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == f"Customer segments — {PERIOD}"
    assert message["To"] == "ann@example.com, Bob Stone <bob@example.com>"
    assert message["Cc"] == "cat@example.com" and message["Bcc"] is None
    profiles = json.loads((project / "output" / SLUG / PERIOD / "profiles.json").read_text())
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for segment in profiles["segments"]:
        assert f"{segment['id']} · {segment['persona']}: {segment['size']:,} customers" in text
        assert f"{segment['id']} · {segment['persona']}" in html.replace("&amp;", "&")
    assert "We analysed <strong>2,000 customers</strong>" in html
    rules = json.loads((project / "output" / SLUG / PERIOD / "rules.json").read_text())
    shown = {rule_text(r["conditions"]) for r in rules["segments"] if r["status"] == "rule"}
    found = re.findall(r"Find them with: (.+)\.\r?$", text, re.MULTILINE)
    assert found and set(found) <= shown  # the highlighted segments' rules, as in the brief
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == f"{SLUG}-{PERIOD}.pdf"
    pdf = (project / "output" / SLUG / PERIOD / "report.pdf").read_bytes()
    assert attachment.get_content() == pdf

    (record,) = log(project)
    assert record["accepted"] == ENVELOPE and record["refused"] == {}
    assert record["message_id"] == message["Message-ID"] and record["attempts"] == 1
    assert record["reply"] == "250 2.0.0 Ok: queued as Q1"
    assert record["pdf_sha256"] == hashlib.sha256(pdf).hexdigest()
    assert snapshot_files(project) == before  # only the delivery record was added
    assert run_cli("archive", "verify", cwd=project).returncode == 0
    index = (project / "output" / SLUG / "index.html").read_text()  # rebuilt after the send
    day = dt.date.fromisoformat(record["at"][:10]).strftime("%B %-d, %Y")
    assert f"to 4 recipients, last on {day}" in index

    again = run_cli("send", PERIOD, cwd=project)
    assert_user_error(again, "was already sent to every recipient")
    assert len(handler.messages) == 1
    resent = run_cli("send", PERIOD, "--resend", cwd=project)
    assert resent.returncode == 0, resent.stderr
    assert len(handler.messages) == 2 and [r["resend"] for r in log(project)] == [False, True]

    # A re-render replaces the report, not the record of who has it.
    assert run_cli("rerender", PERIOD, cwd=project).returncode == 0
    assert len(log(project)) == 2
    assert_user_error(run_cli("send", cwd=project))


def test_starttls_with_auth_and_a_certificate_trusted_through_config(project, secure):
    handler, port, cert = secure
    env = {"SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD}
    credentials = 'username_env = "SMTP_USER"\npassword_env = "SMTP_PASSWORD"\n'
    configure(project, port, credentials + f'ca_file = "{cert}"\n', security="starttls")
    wrong = run_cli("send", cwd=project, env={**env, "SMTP_PASSWORD": "nope"})
    assert wrong.returncode == 3
    assert "refused the credentials from $SMTP_USER and $SMTP_PASSWORD: 535" in wrong.stderr
    assert handler.logins == 2  # PLAIN then LOGIN on one connection: no retry
    assert log(project) == []

    result = run_cli("send", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    assert [sorted(r) for _, r, _ in handler.messages] == [ENVELOPE]
    outputs = result.stdout + result.stderr + wrong.stdout + wrong.stderr
    written = b"".join(p.read_bytes() for p in (project / "output").rglob("*") if p.is_file())
    assert PASSWORD not in outputs and PASSWORD.encode() not in written
    missing = run_cli("send", "--resend", cwd=project, env={"SMTP_USER": USER})
    assert_user_error(missing, "the environment variable SMTP_PASSWORD is not set")

    logins = handler.logins
    configure(project, port, credentials, security="starttls")  # the system CAs only
    untrusted = run_cli("send", "--resend", cwd=project, env=env)
    assert untrusted.returncode == 3 and "cannot be trusted" in untrusted.stderr
    # The right CA but another host name: the certificate names 127.0.0.1 only.
    configure(project, port, credentials + f'ca_file = "{cert}"\n', security="starttls")
    toml = project / "reportgen.toml"
    toml.write_text(toml.read_text().replace('host = "127.0.0.1"', 'host = "localhost"'))
    mismatch = run_cli("send", "--resend", cwd=project, env=env)
    assert mismatch.returncode == 3 and "cannot be trusted" in mismatch.stderr
    assert handler.logins == logins  # refused before any credential was sent
    assert len(handler.messages) == 1 and len(log(project)) == 1
    for failed in (untrusted, mismatch):
        assert PASSWORD not in failed.stdout + failed.stderr


def test_a_deferral_is_retried_and_a_rejection_is_not(project, plain):
    handler, port = plain
    configure(project, port)
    handler.data_replies = ["451 4.3.0 Try again later"]
    result = run_cli("send", cwd=project)
    assert result.returncode == 0, result.stderr
    assert handler.data_calls == 2 and len(handler.messages) == 1
    assert log(project)[0]["attempts"] == 2

    handler.data_replies = ["554 5.7.1 Message rejected as spam"]
    rejected = run_cli("send", "--resend", cwd=project)
    assert rejected.returncode == 3
    assert "the server refused the message: 554 5.7.1 Message rejected as spam" in rejected.stderr
    assert handler.data_calls == 3 and len(log(project)) == 1


def test_after_a_refused_recipient_the_next_send_reaches_only_them(project, plain):
    handler, port = plain
    configure(project, port)
    handler.refuse = {"bob@example.com"}
    before = snapshot_files(project)
    partial = run_cli("send", cwd=project)
    assert partial.returncode == 3
    assert "refused bob@example.com (550 5.1.1 <bob@example.com>: mailbox unavailable)" in (
        partial.stderr
    )
    (record,) = log(project)
    assert record["accepted"] == ["ann@example.com", "cat@example.com", "dan@example.com"]
    assert list(record["refused"]) == ["bob@example.com"]

    handler.refuse = set()
    retry = run_cli("send", cwd=project)
    assert retry.returncode == 0, retry.stderr
    assert [r for _, r, _ in handler.messages] == [
        ["ann@example.com", "cat@example.com", "dan@example.com"],
        ["bob@example.com"],
    ]
    done = run_cli("send", cwd=project)
    assert_user_error(done)
    assert len(handler.messages) == 2
    assert snapshot_files(project) == before
    assert run_cli("archive", "verify", cwd=project).returncode == 0


def test_server_down_fails_after_bounded_retries(project):
    configure(project, free_port())
    result = run_cli("send", cwd=project)
    assert result.returncode == 3
    assert "did not take the message after 3 attempts" in result.stderr
    assert "Connection refused" in result.stderr and log(project) == []


def test_size_limit_is_checked_before_connecting_and_dry_run_writes_the_message(project):
    configure(project, free_port(), "max_attachment_mb = 0.01\n")  # nothing listens there
    large = run_cli("send", cwd=project)
    assert_user_error(large, "over [email] max_attachment_mb = 0.01")

    configure(project, free_port(), "attach_html = true\n")
    draft = run_cli("send", "--dry-run", cwd=project)
    assert draft.returncode == 0, draft.stderr
    path = Path(project / draft.stdout.strip())
    assert path.parent.name == "deliveries" and path.suffix == ".eml"
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == [f"{SLUG}-{PERIOD}.pdf", f"{SLUG}-{PERIOD}.html"]
    assert log(project) == []  # a draft is not a delivery
    assert run_cli("archive", "verify", cwd=project).returncode == 0


def test_run_send_writes_then_sends(tmp_path, plain):
    """With nothing archived yet, --skip-existing runs as usual."""
    handler, port = plain
    configure(tmp_path, port)
    result = run_cli(
        "run", "--period", PERIOD, "--quiet", "--send", "--skip-existing", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert len(handler.messages) == 1 and len(log(tmp_path)) == 1


RETRY = ("run", "--period", PERIOD, "--skip-existing", "--send", "--data", "gone.csv")
"""A scheduler's retry of a run whose snapshot is written (its data is gone by now)."""


def test_a_retried_run_keeps_the_snapshot_and_sends_only_what_is_missing(project, plain):
    handler, port = plain
    configure(project, port)
    before = snapshot_files(project)
    handler.refuse = {"bob@example.com"}
    partial = run_cli(*RETRY, cwd=project)
    assert partial.returncode == 3, partial.stderr
    assert "Kept output/customer-segments/2026-11: it exists and verifies" in partial.stderr
    assert partial.stdout.strip() == f"output/{SLUG}/{PERIOD}"

    handler.refuse = set()
    for _ in range(2):  # the retry reaches bob; the next has nothing left to send
        retry = run_cli(*RETRY, cwd=project)
        assert retry.returncode == 0, retry.stderr
    assert f"Nothing was sent: output/{SLUG}/{PERIOD} was already sent to every recipient" in (
        retry.stderr
    )
    assert [r for _, r, _ in handler.messages] == [
        ["ann@example.com", "cat@example.com", "dan@example.com"],
        ["bob@example.com"],
    ]
    assert snapshot_files(project) == before

    stray = project / "output" / SLUG / PERIOD / "notes.txt"  # archive verify fails on it
    stray.write_text("added by hand")
    added = run_cli(*RETRY, cwd=project)
    assert_user_error(added, "fails verification (notes.txt changed, missing or added)")
    stray.unlink()
    both = run_cli(*RETRY, "--force", cwd=project)
    assert_user_error(both, "argument --force: not allowed with argument --skip-existing")

    profiles = project / "output" / SLUG / PERIOD / "profiles.json"
    profiles.write_bytes(profiles.read_bytes().replace(b'"k": 5', b'"k": 6'))
    tampered = run_cli(*RETRY, cwd=project)
    assert_user_error(
        tampered, f"the existing snapshot output/{SLUG}/{PERIOD} fails verification (profiles.json"
    )
    assert len(handler.messages) == 2


def test_implicit_tls_and_one_message_per_audience(project, tmp_path):
    cert, key = certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ssl_context=context)
    controller.start()
    try:
        board = '[email.audiences.board]\nto = ["Eve Chair <eve@example.com>"]\n'
        configure(project, controller.port, f'ca_file = "{cert}"\n' + board, security="ssl")
        result = run_cli("send", cwd=project)
    finally:
        controller.stop()
    assert result.returncode == 0, result.stderr
    assert [sorted(r) for _, r, _ in handler.messages] == [ENVELOPE, ["eve@example.com"]]
    headers = [message_from_bytes(raw, policy=policy.default) for _, _, raw in handler.messages]
    assert headers[1]["To"] == "Eve Chair <eve@example.com>" and headers[1]["Cc"] is None
    assert headers[0]["Message-ID"] != headers[1]["Message-ID"]
    assert [r["audience"] for r in log(project)] == ["stakeholders", "board"]


def test_a_connection_lost_after_the_data_is_unknown_and_not_retried(project, plain):
    handler, port = plain
    configure(project, port)
    handler.data_replies = ["451 4.3.0 Busy", "hang up"]  # deferred once, then lost
    lost = run_cli("send", cwd=project)
    assert lost.returncode == 3
    assert "may or may not have reached" in lost.stderr and "--resend" in lost.stderr
    assert handler.data_calls == 2  # no third try: it could deliver the brief twice
    (record,) = log(project)
    assert record["status"] == "unknown" and record["accepted"] == ENVELOPE
    assert record["attempts"] == 2
    again = run_cli("send", cwd=project)
    assert_user_error(again, "is unknown (the connection dropped)")
    assert handler.data_calls == 2
    retry = run_cli(*RETRY, cwd=project)  # a scheduler's retry: done, but the doubt is said
    assert retry.returncode == 0 and handler.data_calls == 2
    assert "Nothing was sent: " in retry.stderr and "is unknown (the connection" in retry.stderr
    assert run_cli("send", "--resend", cwd=project).returncode == 0
    assert len(handler.messages) == 1


def test_starttls_required_but_not_offered_is_refused_not_downgraded(project, plain):
    handler, port = plain  # a plain server: no STARTTLS in its EHLO reply
    credentials = 'username_env = "SMTP_USER"\npassword_env = "SMTP_PASSWORD"\n'
    configure(project, port, credentials, security="starttls")
    env = {"SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD}
    result = run_cli("send", cwd=project, env=env)
    assert result.returncode == 3
    assert "does not offer STARTTLS, so the message would travel in clear text" in result.stderr
    assert handler.data_calls == 0 and handler.logins == 0 and log(project) == []


def test_force_keeps_the_delivery_record_so_run_send_does_not_repeat(tmp_path, plain):
    handler, port = plain
    configure(tmp_path, port)
    first = run_cli("run", "--period", PERIOD, "--quiet", "--send", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = run_cli("run", "--period", PERIOD, "--quiet", "--force", "--send", cwd=tmp_path)
    assert_user_error(again, "already sent to every recipient")
    assert len(handler.messages) == 1 and len(log(tmp_path)) == 1
    assert run_cli("archive", "verify", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("blocker", ["deliveries is a file", "log.json is a folder"])
def test_a_record_that_cannot_be_written_stops_the_send_before_anything_leaves(
    project, plain, blocker
):
    handler, port = plain
    configure(project, port)
    folder = project / "output" / SLUG / PERIOD
    if blocker == "deliveries is a file":
        (folder / "deliveries").write_text("not a folder")
    else:
        (folder / "deliveries" / "log.json").mkdir(parents=True)
    for _ in range(2):  # a retry does not send either
        result = run_cli("send", PERIOD, cwd=project)
        assert result.returncode == 3
        assert result.stderr.count("\n") == 1, result.stderr
        assert "cannot be written" in result.stderr and "nothing was sent" in result.stderr
    assert handler.messages == []


def test_a_record_lost_after_the_server_accepted_stays_pending_and_is_not_repeated(
    project, plain, monkeypatch
):
    from reportgen import config, deliver
    from reportgen.errors import DeliveryError

    handler, port = plain
    configure(project, port)
    settings = config.load(project / "reportgen.toml")
    out = project / "output"
    writes = []
    write = deliver._write_log

    def failing_after_the_intent(snapshot, entries):
        writes.append([d.status for d in entries])
        if len(writes) == 2:  # the outcome, after the server took the message
            raise OSError(28, "No space left on device")
        write(snapshot, entries)

    monkeypatch.setattr(deliver, "_write_log", failing_after_the_intent)
    with pytest.raises(DeliveryError, match="stays recorded as pending"):
        deliver.send(out, SLUG, PERIOD, settings)
    monkeypatch.undo()
    assert writes == [["pending"], ["sent"]]
    assert len(handler.messages) == 1
    assert [d["status"] for d in log(project)] == ["pending"]
    with pytest.raises(deliver.AlreadySent, match="is unknown"):
        deliver.send(out, SLUG, PERIOD, settings)
    assert len(handler.messages) == 1


def test_a_recipient_the_server_cannot_verify_but_accepts_counts_as_reached(project, plain):
    handler, port = plain
    configure(project, port)
    handler.unverified = {"bob@example.com"}
    result = run_cli("send", cwd=project)
    assert result.returncode == 0, result.stderr
    (record,) = log(project)
    assert "bob@example.com" in record["accepted"] and record["refused"] == {}
    assert_user_error(run_cli("send", cwd=project))  # not sent to bob again
    assert len(handler.messages) == 1


def test_stopped_before_the_server_greets_leaves_no_record_and_sends_later(project, plain):
    handler, port = plain
    silent = socket.socket()  # accepts the connection, never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    configure(project, silent.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "reportgen", "send"],
        cwd=project,
        stderr=subprocess.PIPE,
        text=True,
    )
    silent.settimeout(60)
    connection, _ = silent.accept()  # imported, connected, waiting for the greeting
    time.sleep(0.2)  # well inside its 5 s timeout
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    connection.close()
    silent.close()
    assert process.returncode == 143, stderr
    assert log(project) == []  # no "pending": the message never left
    configure(project, port)
    assert run_cli("send", cwd=project).returncode == 0
    assert len(handler.messages) == 1


def test_a_ca_file_that_is_a_pipe_is_refused_before_anything_is_recorded(project, plain):
    _, port = plain
    os.mkfifo(project / "ca.pem")
    configure(project, port, 'ca_file = "ca.pem"\n', security="starttls")
    result = run_cli("send", cwd=project, timeout=30)
    assert_user_error(result, "ca_file: ", "ca.pem is not a regular file")
    assert log(project) == []
