"""`[email] notify_on_failure`: a failed `run` tells the addresses through a real SMTP server
on loopback (aiosmtpd, as in test_send.py), without the data, a credential or an attachment,
and keeps the exit status it would have had."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from reportgen import pipeline
from tests.e2e.test_send import PASSWORD, USER, Recorder, free_port, secure_server
from tests.helpers import assert_user_error, run_cli

PERIOD = "2026-11"
SLUG = "customer-segments"
WATCHERS = ["ops@example.com", "On Call <oncall@example.com>"]
MARKER = "ZQX7731-cell-value"
"""In every text cell of the failing input: the notice must not carry it."""
CREDENTIALS = {"SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD}


@pytest.fixture
def server(tmp_path):
    """test_send's server as a real one asks (STARTTLS, AUTH, a certificate trusted through
    ca_file), with aiosmtpd's warnings of its own deprecations kept off the stderr that
    run_cli captures, which must be ours."""
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.ERROR)
    try:
        with secure_server(tmp_path) as found:
            yield found
    finally:
        server_log.setLevel(level)


def configure(folder: Path, port: int, cert: Path | None = None, extra: str = "") -> None:
    secure = (
        f'security = "starttls"\nca_file = "{cert}"\n'
        'username_env = "SMTP_USER"\npassword_env = "SMTP_PASSWORD"\n'
        if cert
        else 'security = "none"\n'
    )
    (folder / "reportgen.toml").write_text(
        "[email]\n"
        'from = "Reports <reports@example.com>"\n'
        f"notify_on_failure = {json.dumps(WATCHERS)}\n"
        f'host = "127.0.0.1"\nport = {port}\n{secure}'
        "timeout = 5\nretries = 2\nretry_wait = 0.05\n" + extra
    )


def without_a_spend_column(folder: Path) -> Path:
    """A customer table with no column for the required role `spend` (exit 2), whose
    cells all hold MARKER."""
    path = folder / "customers.csv"
    rows = [f"C{i},{MARKER}-{i},{MARKER}" for i in range(30)]
    path.write_text("Customer ID,City,Membership Type\n" + "\n".join(rows) + "\n")
    return path


def notice(handler: Recorder) -> tuple[list[str], bytes, EmailMessage]:
    """The one message the server took: its envelope recipients, raw bytes and message."""
    assert len(handler.messages) == 1, handler.messages
    sender, recipients, raw = handler.messages[0]
    assert sender == "reports@example.com"
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return sorted(recipients), raw, message


def test_a_failed_run_tells_exactly_the_watchers_what_the_terminal_said(
    tmp_path, server, monkeypatch
):
    """A scheduled run of the previous month ([report] period): the notice names the month."""
    handler, port, cert = server
    configure(tmp_path, port, cert)
    config = tmp_path / "reportgen.toml"
    config.write_text('[report]\nperiod = "previous"\n' + config.read_text())
    monkeypatch.setattr("reportgen.periods.today", lambda: dt.date(2026, 12, 1))
    data = without_a_spend_column(tmp_path)
    result = run_cli("run", "--data", data, cwd=tmp_path, env=CREDENTIALS)
    line = assert_user_error(result, "required role 'spend'")  # still 2, still one line
    recipients, raw, message = notice(handler)
    assert recipients == ["oncall@example.com", "ops@example.com"]
    assert handler.logins == 1  # the brief's credentials, over the brief's TLS
    assert message["Subject"] == f"reportgen: {SLUG} {PERIOD} failed (exit 2)"
    assert message["From"] == "Reports <reports@example.com>"
    assert message["To"] == ", ".join(WATCHERS)
    assert message["Message-ID"] and message["Date"]
    assert not message.is_multipart() and message.get_content_type() == "text/plain"
    assert list(message.iter_attachments()) == []
    body = message.get_content()
    assert f"Error: {line.removeprefix('reportgen: error: ')}" in body.splitlines()
    for fact in (f"Report: {SLUG}", f"Period: {PERIOD}", f"Host: {socket.gethostname()}"):
        assert fact in body
    assert "Exit code: 2" in body and "run the same command again" in body
    for secret in (MARKER, PASSWORD):
        assert secret not in body and secret.encode() not in raw
    assert not (tmp_path / "output" / SLUG / PERIOD).exists()


@pytest.mark.parametrize(
    ("rows", "setting", "shown"),
    [
        # repeated ids, refused by [validation] duplicates = "error"
        (["{m}-id,a,10", "{m}-id,b,20"], '[validation]\nduplicates = "error"\n', "rows share"),
        # a spend column mostly unreadable: the error quotes some of its cells
        ([f"C{i},x,{{m}}{i}" for i in range(30)], "", "values that are"),
        # amounts in two currencies: the error quotes one of each
        ([f"C{i},x,{c}{i}.50" for i, c in enumerate("$€" * 10)], "", "more than one currency"),
    ],
)
def test_cells_an_error_quotes_reach_the_terminal_but_never_the_notice(
    tmp_path, server, rows, setting, shown
):
    handler, port, cert = server
    configure(tmp_path, port, cert)
    config = tmp_path / "reportgen.toml"
    config.write_text(setting + config.read_text())
    body_rows = [row.format(m=MARKER) for row in rows]
    (tmp_path / "c.csv").write_text("Customer ID,City,Total Spend\n" + "\n".join(body_rows))
    result = run_cli("run", "--data", "c.csv", "--period", PERIOD, cwd=tmp_path, env=CREDENTIALS)
    line = assert_user_error(result, shown)
    _, raw, message = notice(handler)
    quoted = re.findall(r"'[^']*'", line)
    cells = [q for q in quoted if MARKER in q or "$" in q or "€" in q]
    assert cells, line  # the terminal shows the cells, so a person can find them
    body = message.get_content()
    assert "…" in body and shown in body, body
    for cell in cells:
        assert cell not in body and cell.encode() not in raw


def test_a_library_s_account_of_a_bad_row_stays_on_the_terminal(tmp_path, server):
    """The CSV reader quotes the row it could not read: the data, so not in the notice."""
    handler, port, cert = server
    configure(tmp_path, port, cert)
    rows = [f"C{i},x,{i}" for i in range(20)] + [f"{MARKER},x,10,one too many"]
    (tmp_path / "c.csv").write_text("Customer ID,City,Total Spend\n" + "\n".join(rows) + "\n")
    result = run_cli("run", "--data", "c.csv", "--period", PERIOD, cwd=tmp_path, env=CREDENTIALS)
    line = assert_user_error(result, "not a readable CSV table")
    assert MARKER in line
    _, raw, message = notice(handler)
    assert "not a readable CSV table: …" in message.get_content()
    assert MARKER.encode() not in raw


def test_a_notice_that_cannot_be_sent_is_one_more_line_and_keeps_the_exit_status(tmp_path):
    port = free_port()  # nothing listens there
    configure(tmp_path, port)
    result = run_cli("run", "--data", "missing.csv", "--period", PERIOD, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    first, second = result.stderr.splitlines()
    assert first.startswith("reportgen: error: ") and "missing.csv" in first
    assert second.startswith(
        "reportgen: error: the failure notice could not be sent to "
        "ops@example.com, On Call <oncall@example.com>: "
        f"127.0.0.1:{port} did not take the message after 2 attempts"  # retried once only
    )
    assert "Connection refused" in second


def test_a_brief_that_cannot_be_sent_by_run_send_is_a_failure_told_too(tmp_path, server):
    handler, port, cert = server
    configure(tmp_path, port, cert, 'to = ["ann@example.com"]\n')
    handler.refuse.add("ann@example.com")
    result = run_cli("run", "--period", PERIOD, "--quiet", "--send", cwd=tmp_path, env=CREDENTIALS)
    assert result.returncode == 3, result.stderr
    *_, line = result.stderr.splitlines()  # after the brief's "sent to 0 recipient(s)"
    assert line.startswith("reportgen: error: stakeholders: refused ann@example.com")
    recipients, _, message = notice(handler)  # the brief was refused, so never taken
    assert recipients == ["oncall@example.com", "ops@example.com"]
    assert message["Subject"] == f"reportgen: {SLUG} {PERIOD} failed (exit 3)"
    body = message.get_content()
    assert f"Error: {line.removeprefix('reportgen: error: ')}" in body.splitlines()
    assert "Exit code: 3" in body and "Check the mail server" in body


def test_a_bug_is_told_by_its_type_and_place_never_its_message(tmp_path, server, monkeypatch):
    # No input makes reportgen fail with a bug on purpose, so a stage is made to fail as a
    # bug would, with a message that stands for a cell of the data.
    def broken(*args, **kwargs):
        raise KeyError("secret-cell-value")

    monkeypatch.setattr(pipeline, "build_profiles", broken)
    handler, port, cert = server
    configure(tmp_path, port, cert)
    result = run_cli("run", "--period", PERIOD, "--quiet", cwd=tmp_path, env=CREDENTIALS)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "KeyError: 'secret-cell-value'" in result.stderr
    _, raw, message = notice(handler)
    assert message["Subject"] == f"reportgen: {SLUG} {PERIOD} failed (exit 1)"
    body = message.get_content()
    source = Path(pipeline.__file__).read_text().splitlines()
    calls = [n for n, text in enumerate(source, 1) if re.search(r"\bbuild_profiles\(", text)]
    assert len(calls) == 1
    assert f"Error: KeyError, raised at pipeline.py:{calls[0]}" in body.splitlines()
    assert "Exit code: 1" in body and "traceback is in the run's own log" in body
    assert b"secret-cell-value" not in raw


def test_success_other_commands_and_an_unreadable_config_send_nothing(tmp_path, server):
    handler, port, cert = server
    configure(tmp_path, port, cert)
    done = run_cli("run", "--period", PERIOD, "--quiet", cwd=tmp_path, env=CREDENTIALS)
    assert done.returncode == 0, done.stderr
    assert_user_error(run_cli("validate", "--data", "missing.csv", cwd=tmp_path, env=CREDENTIALS))
    assert_user_error(run_cli("send", "2026-01", cwd=tmp_path, env=CREDENTIALS))
    configure(tmp_path, port, cert, 'attach_html = "maybe"\n')  # the server is there
    broken = run_cli("run", "--period", PERIOD, "--force", cwd=tmp_path, env=CREDENTIALS)
    assert_user_error(broken, "[email] attach_html")  # and not a word about a notice
    assert handler.messages == [] and handler.logins == 0
