"""Promise 1, issue #13 class 2: data written into generated text stays data.

Every value from the data that reportgen writes into a text of another format goes
through that format's own escaping, so a name holding a line break, a quote, a bracket
or a `#` cannot end a cell, a string literal or a header early. Covered here: the CSV
export of a snapshot, the DuckDB SQL built for order logs, the headers of the briefing
email, and the names of attachments and snapshot folders. The TOML written by
`reportgen init` and terminal output have their own tests (test_bad_input.py,
test_terminal.py).

One real run serves the CSV and email tests (`archived`, module scope); the SQL tests
call `read_orders` on logs of a few lines, with every aggregate worked out by hand.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from reportgen import archive, names, pipeline
from reportgen.config import load, parse
from reportgen.errors import ConfigError, SnapshotError
from reportgen.ingest import read_table
from reportgen.orders import read_orders
from reportgen.resources import templates_dir
from reportgen.spreadsheet import restore
from reportgen.validate import validate
from tests.helpers import assert_user_error, run_cli
from tests.reliability.helpers import GENERATED, PERIOD, sample_table

# Each with what a snapshot stores for it as a customer id (line breaks and tabs are a
# counted fix: one space; ends trimmed) and the cell the CSV export holds for that
# (a formula gets a leading apostrophe, which reportgen.spreadsheet.restore removes).
HOSTILE = [
    ("line\nbreak", "line break", "line break"),
    ("carriage\rreturn", "carriage return", "carriage return"),
    ("crlf\r\nBcc: evil@example.com", "crlf Bcc: evil@example.com", "crlf Bcc: evil@example.com"),
    ('double "quote"', 'double "quote"', 'double "quote"'),
    ("single 'quote'", "single 'quote'", "single 'quote'"),
    ('"wrapped"', '"wrapped"', '"wrapped"'),
    ("'wrapped'", "'wrapped'", "'wrapped'"),
    ("[bracket]", "[bracket]", "[bracket]"),
    ("#hash", "#hash", "#hash"),
    ("semi;colon", "semi;colon", "semi;colon"),
    ("--", "--", "'--"),
    ("x -- comment", "x -- comment", "x -- comment"),
    ("comma,separated", "comma,separated", "comma,separated"),
    ("=1+1", "=1+1", "'=1+1"),
    ("'=1", "'=1", "''=1"),
    ("-10", "-10", "-10"),
    ("tab\there", "tab here", "tab here"),
    ("Zoë Łódź 東京\u2028sep", "Zoë Łódź 東京 sep", "Zoë Łódź 東京 sep"),
    ("x" * 5000, "x" * 5000, "x" * 5000),
]
VALUES = [raw for raw, _, _ in HOSTILE]

SLUG = "acme-brief-2"
TO = ["ann@example.com", "Bob Stone <bob@example.com>"]
CC = ["cat@example.com"]
BCC = ["dan@example.com"]
# Persona names get this ending in the library; the library reads names as one line.
NAME_TAIL = " \r\nBcc: evil@example.com\u2028[#1] \"q\" 'q';--"
NAME_TAIL_READ = " Bcc: evil@example.com [#1] \"q\" 'q';--"
COMPANY = "Acme\r\nBcc: evil@example.com\u2028X-Evil: 1"
COMPANY_READ = "Acme Bcc: evil@example.com X-Evil: 1"
SUBJECT = (
    "{{ company }} — {% for s in segments %}{{ s.name }}{% if not loop.last %} | "
    "{% endif %}{% endfor %}"
)


def _toml(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value)


def configure(folder: Path, company: str = COMPANY, slug: str = SLUG) -> Path:
    path = folder / "reportgen.toml"
    path.write_text(
        "[report]\n"
        f'slug = {_toml(slug)}\ncompany = {_toml(company)}\npersonas = "personas.yaml"\n'
        "[email]\n"
        'from = "Reports <reports@example.com>"\n'
        f"to = {json.dumps(TO)}\ncc = {json.dumps(CC)}\nbcc = {json.dumps(BCC)}\n"
        f"subject = {_toml(SUBJECT)}\n",
        encoding="utf-8",
    )
    return path


def hostile_library(path: Path) -> dict[str, str]:
    """The bundled persona library with NAME_TAIL after every name; key -> name as read."""
    document = yaml.safe_load((templates_dir() / "personas.yaml").read_text(encoding="utf-8"))
    for persona in document["personas"]:
        persona["name"] += NAME_TAIL
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return {
        p["key"]: p["name"].removesuffix(NAME_TAIL) + NAME_TAIL_READ for p in document["personas"]
    }


@pytest.fixture(scope="module")
def archived(tmp_path_factory) -> tuple[Path, pipeline.RunResult, dict[str, str]]:
    """One run: every hostile value as a customer id, a persona library whose names hold
    line breaks, and a company name with a header line in it. The project folder, the
    result, and the library's names as read."""
    folder = tmp_path_factory.mktemp("archived")
    named = hostile_library(folder / "personas.yaml")
    table = sample_table()
    table.loc[: len(VALUES) - 1, "Customer ID"] = VALUES
    # CRLF line ends, so the writer quotes a lone CR in a cell too (with LF ends Python's
    # csv module leaves it bare, which no reader can take back).
    table.to_csv(folder / "data.csv", index=False, lineterminator="\r\n")
    config = load(configure(folder))
    result = pipeline.run(
        folder / "data.csv",
        config,
        pipeline.Destination(folder / "output", PERIOD, force=True),
        generated=GENERATED,
    )
    return folder, result, named


# --- 1. CSV exports -------------------------------------------------------------------------


def test_hostile_customer_ids_survive_the_csv_export_and_every_reader(archived):
    folder, result, _ = archived
    snapshot = result.snapshot.path
    # assignments.csv is the only CSV a run writes; a new one must be added here.
    assert sorted(p.name for p in snapshot.glob("*.csv")) == ["assignments.csv"]
    customers = len(sample_table())
    clean = result.analysis.clean.frame
    assert len(clean) == customers  # no hostile id was dropped or merged
    segments = dict(zip(clean["customer_id"], result.analysis.segmentation.labels, strict=True))
    for raw, stored, _ in HOSTILE:
        assert stored in segments, (raw, stored)
    path = snapshot / "assignments.csv"

    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["customer_id", "segment"]
    assert len(rows) == customers + 1 and all(len(row) == 2 for row in rows)
    cells = {row[0]: int(row[1]) for row in rows[1:]}
    assert len(cells) == customers
    for _, stored, cell in HOSTILE:
        assert cells[cell] == segments[stored], (stored, cell)

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["customer_id", "segment"] and len(frame) == customers
    back = dict(zip(restore(frame["customer_id"]), frame["segment"].astype(int), strict=True))
    assert back == {str(k): int(v) for k, v in segments.items()}

    # And as reportgen itself reads the export back: next period's view of this one.
    previous = archive.load_previous(folder / "output", SLUG, "2026-12")
    assert previous is not None and len(previous.assignments) == customers
    ids = previous.assignments["customer_id"].tolist()
    assert dict(zip(ids, previous.assignments["segment"].astype(int), strict=True)) == back

    # The raw values, line breaks and all, are quoted exactly by the manifest's JSON.
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    fix = next(f for f in manifest["data_quality"]["fixes"] if f["code"] == "control_characters")
    assert fix["count"] == 5 and [e["value"] for e in fix["examples"]] == VALUES[:3]


# --- 2. SQL for order logs ------------------------------------------------------------------

ORDER_COLUMNS = {
    "customer_id": 'Customer "ID"',
    "order_date": "Order'Date",
    "amount": "amount; DROP TABLE x; --",
    "order_id": "order\nid",
    "quantity": "#hash",
    "unit_price": "[bracket]",
}
ANN, OBRIEN, HASH = 'Ann "A"', "O'Brien'); DROP TABLE lines; --", "#C [1],\n2"
LINES = [  # customer, day, amount, order id, quantity, unit price
    (ANN, date(2026, 10, 1), 25.0, "O1", 2, 12.5),
    (ANN, date(2026, 10, 1), 5.0, "O1", 1, 5.0),
    (ANN, date(2026, 10, 21), 30.0, "O2", 1, 30.0),
    (ANN, date(2026, 10, 25), 5.0, "O3", -1, 5.0),  # a return: negative quantity
    (OBRIEN, date(2026, 9, 1), 100.0, "O4", 4, 25.0),
    (HASH, date(2026, 10, 30), 12.0, "O5", 3, 4.0),
    (HASH, date(2026, 10, 15), 8.0, "O6", 2, 4.0),
    (HASH, date(2026, 10, 20), 4.0, "R'7", 1, 4.0),  # a return: [orders] return_prefix
]
# As of 2026-10-31, the day after the last order.
# Ann: orders O1 (30, 3 items) and O2 (30, 1 item), returned O3 (5).
# O'Brien: O4 only. #C: O5 (12) and O6 (8), 5 items, returned R'7 (4).
EXPECTED = pd.DataFrame(
    {
        "recency": [10, 60, 1],
        "tenure": [30, 60, 16],
        "frequency": [2, 1, 2],
        "spend": [55.0, 100.0, 16.0],
        "aov": [30.0, 100.0, 10.0],
        "items_per_order": [2.0, 4.0, 2.5],
        "return_rate": [1 / 3, 0.0, 1 / 3],
    },
    index=pd.Index([ANN, OBRIEN, HASH], name="customer_id"),
)


def write_log(folder: Path, kind: str) -> Path:
    """LINES under the hostile names, plus one unused column per hostile value. CSV as
    text with dates like 01'10'2026; Parquet with native types."""
    folder.mkdir(parents=True)
    # Every hostile value as a column name too, but no name twice: two columns of one
    # name are refused (ingest.check_unique).
    unused = [value for value in VALUES if value not in ORDER_COLUMNS.values()]
    columns = list(ORDER_COLUMNS.values()) + unused
    if kind == "csv":
        path = folder / 'log\'s "export".csv'
        buffer = io.StringIO()
        # Every cell quoted: Python's csv module leaves a lone CR unquoted otherwise.
        writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(columns)
        for who, day, amount, order, quantity, price in LINES:
            cells = [who, day.strftime("%d'%m'%Y"), f"{amount:g}", order, quantity, price]
            writer.writerow([*cells, *(f"junk {i}" for i in range(len(unused)))])
        path.write_text(buffer.getvalue(), encoding="utf-8")
    else:
        path = folder / 'log\'s "export".parquet'
        data = list(zip(*LINES, strict=True))
        arrays = [
            pa.array(data[0], pa.string()),
            pa.array(data[1], pa.date32()),
            pa.array(data[2], pa.float64()),
            pa.array(data[3], pa.string()),
            pa.array(data[4], pa.int64()),
            pa.array(data[5], pa.float64()),
            *(pa.array([f"junk {i}"] * len(LINES)) for i in range(len(unused))),
        ]
        pq.write_table(pa.Table.from_arrays(arrays, names=columns), path)
    return path


@pytest.mark.parametrize("given", ["file", "folder"])
@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_order_log_sql_quotes_hostile_column_names_paths_and_formats(tmp_path, kind, given):
    # Given as a folder, the path may hold glob characters too: only a file's name is
    # taken as a pattern (see the xfail below).
    folder = tmp_path / ('o\'rders "dir" #1; --' + (" [x] *?" if given == "folder" else ""))
    path = write_log(folder, kind)
    if given == "folder":
        path = folder
    data = {"kind": "transactions", **({"date_format": "%d'%m'%Y"} if kind == "csv" else {})}
    config = parse({"data": data, "orders": {**ORDER_COLUMNS, "return_prefix": "R'"}})
    log = read_orders(path, config.orders, config.data, today=date(2026, 11, 28))
    assert log.lines == len(LINES) and log.fixes == () and log.as_of == date(2026, 10, 31)
    assert log.columns == ORDER_COLUMNS and log.dataset.order_columns == ORDER_COLUMNS
    table = log.dataset.frame.set_index("customer_id").loc[EXPECTED.index]
    pd.testing.assert_frame_equal(table, EXPECTED, check_dtype=False, check_index_type=False)


def test_an_order_log_id_wrapped_in_apostrophes_stays_its_own_customer(tmp_path):
    """A CSV's quote is the double quote. Left to sniff it, DuckDB took ' from this
    sample, read 'B' as B and merged two customers."""
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer,order date,amount\n'B',2026-10-01,10\nB,2026-10-02,20\nC,2026-10-03,30\n"
    )
    config = parse({"data": {"kind": "transactions"}})
    log = read_orders(path, config.orders, config.data, today=date(2026, 11, 28))
    spend = dict(zip(log.dataset.frame["customer_id"], log.dataset.frame["spend"], strict=True))
    assert spend == {"'B'": 10.0, "B": 20.0, "C": 30.0}


def test_an_excel_order_log_with_a_line_break_in_a_header_cell_is_read(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(b'customer,"order\ndate",amount\r\nA,2026-10-01,5\r\nB,2026-10-02,6\r\n')
    config = parse({"data": {"kind": "transactions"}, "orders": {"order_date": "order\ndate"}})
    log = read_orders(path, config.orders, config.data, today=date(2026, 11, 28))
    assert log.dataset.frame["customer_id"].tolist() == ["A", "B"]


def test_an_order_log_whose_file_name_has_brackets_is_read(tmp_path):
    path = tmp_path / "orders[2026].csv"
    path.write_text("customer,order date,amount\nA,2026-10-01,10\n")
    config = parse({"data": {"kind": "transactions"}})
    log = read_orders(path, config.orders, config.data, today=date(2026, 11, 28))
    assert log.dataset.frame["customer_id"].tolist() == ["A"]


def test_customer_ids_that_look_like_missing_markers_are_kept(tmp_path):
    ids = ["NA", "None", "null", "N/A", "nan", "A1", "A2"]
    path = tmp_path / "customers.csv"
    path.write_text(
        "Customer ID,Total Spend,Items Purchased,Days Since Last Purchase\n"
        + "".join(f"{c},{100 + i},{i + 1},{10 + i}\n" for i, c in enumerate(ids))
    )
    clean = validate(read_table(path, 2048.0, 1000), parse({}))
    assert sorted(clean.frame["customer_id"]) == sorted(ids)
    assert clean.quality.fixes == ()


# --- 3. email headers -----------------------------------------------------------------------


def snapshot_tree(project: Path) -> dict[str, str]:
    return {
        str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((project / "output").rglob("*"))
        if p.is_file() and p.name != archive.LOCK
    }


@pytest.fixture
def project(tmp_path, archived) -> Path:
    """A fresh copy of the archived project, for a test that sends."""
    folder, _, _ = archived
    shutil.copytree(folder, tmp_path / "project")
    return tmp_path / "project"


def test_line_breaks_in_the_subject_stay_inside_one_subject_header(project, archived):
    _, _, named = archived
    dry = run_cli("send", "--dry-run", cwd=project)
    assert dry.returncode == 0 and dry.stderr == "", dry.stderr
    drafts = dry.stdout.splitlines()
    assert len(drafts) == 1
    draft = project / drafts[0]
    assert draft.parent == project / "output" / SLUG / PERIOD / archive.DELIVERIES
    assert re.fullmatch(r"\d{8}T\d{6}Z-[a-z0-9-]+\.eml", draft.name), draft.name
    raw = draft.read_bytes()
    message = message_from_bytes(raw, policy=policy.default)

    profiles = json.loads((draft.parent.parent / "profiles.json").read_text(encoding="utf-8"))
    shown = [s["persona"] for s in profiles["segments"]]
    keyed = [s["persona_key"] for s in profiles["segments"] if s["persona_key"] in named]
    assert keyed, "no segment took a name from the hostile library"
    assert all(
        named[s["persona_key"]] == s["persona"]
        for s in profiles["segments"]
        if s["persona_key"] in named
    )
    assert any(name.endswith(NAME_TAIL_READ) for name in shown)
    expected = f"{COMPANY_READ} — " + " | ".join(shown)

    headers = [key.lower() for key in message]
    assert sorted(headers) == sorted(
        ["subject", "from", "to", "cc", "date", "message-id", "mime-version", "content-type"]
    )
    assert message.get_all("Subject") == [expected]
    assert message["To"] == "ann@example.com, Bob Stone <bob@example.com>"
    assert message["Cc"] == "cat@example.com" and message["Bcc"] is None
    assert message["From"] == "Reports <reports@example.com>"
    # In the bytes themselves: no header line of the data's making, only folded lines.
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    starts = [
        line.split(b":", 1)[0].lower() for line in head.splitlines() if line[:1] not in b" \t"
    ]
    assert sorted(starts) == sorted(h.encode() for h in headers)
    assert b"\xe2\x80\xa8" not in head  # no raw U+2028 either

    # 4. The attachment is named from the slug and period only.
    attachments = list(message.iter_attachments())
    assert [part.get_filename() for part in attachments] == [f"{SLUG}-{PERIOD}.pdf"]
    disposition = attachments[0]["Content-Disposition"]
    assert disposition.params == {"filename": f"{SLUG}-{PERIOD}.pdf"}
    assert disposition.content_disposition == "attachment"


@pytest.mark.parametrize(
    "company",
    [
        "=?utf-8?q?Acme=0D=0ABcc:_evil@example.com?=",  # an RFC 2047 encoded word
        "Acme%0d%0aBcc: evil@example.com",  # a URL-encoded line break
    ],
)
def test_encoded_line_breaks_in_the_subject_are_refused_and_nothing_is_written(project, company):
    configure(project, company=company)
    before = snapshot_tree(project)
    refused = run_cli("send", "--dry-run", cwd=project)
    assert_user_error(refused, "[email] subject (as rendered)", "line breaks or encoded text")
    assert refused.stdout == ""
    assert snapshot_tree(project) == before


# --- 4. file and folder names ---------------------------------------------------------------


# "-10" is left out: "acme-brief-2-10" is a fine slug.
@pytest.mark.parametrize("value", [v for v in VALUES if v != "-10"])
def test_no_hostile_value_can_name_a_snapshot_folder_or_attachment(value):
    assert not names.is_slug(value) and not names.is_period(value)
    assert not names.is_slug(f"{SLUG}{value}") and not names.is_period(f"{PERIOD}{value}")
    with pytest.raises(ConfigError, match=r"\[report\] slug"):
        parse({"report": {"slug": f"{SLUG}{value}"}})
    with pytest.raises(SnapshotError):
        archive.snapshot_path(Path("out"), SLUG, f"{PERIOD}{value}")


def test_a_hostile_slug_in_the_config_is_one_line_and_nothing_is_written(project):
    configure(project, slug=f"{SLUG}\r\nBcc: evil@example.com")
    before = snapshot_tree(project)
    refused = run_cli("send", "--dry-run", cwd=project)
    line = assert_user_error(refused, "[report] slug", "is not a valid slug")
    assert "'acme-brief-2\\r\\nBcc: evil@example.com'" in line  # escaped, on the one line
    assert refused.stdout == "" and snapshot_tree(project) == before
