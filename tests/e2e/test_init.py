"""`reportgen init`: every key written with its default, the roles of common exports
mapped, and what is still missing said on the terminal."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from reportgen import config, numbers
from reportgen.config import AUDIENCE_KEYS, ORDER_ROLES, TABLES, Config, declared
from reportgen.roles import infer_roles
from tests.helpers import run_cli
from tests.unit.test_column_names import SHOPIFY, WOOCOMMERCE


def _table(path: Path, header: list[str], delimiter: str = ",") -> Path:
    rows = [delimiter.join(header)]
    for i in range(30):
        row = []
        for column in header:
            if "mail" in column.lower():
                row.append(f"c{i}@example.com")
            elif "date" in column.lower() or "active" in column.lower():
                row.append(f"2026-01-{1 + i % 28:02d}")
            else:
                row.append(str(1 + (i * 7 + len(column)) % 13))
        rows.append(delimiter.join(row))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("header", "delimiter", "expected"),
    [
        (
            SHOPIFY,
            ",",
            {
                "customer_id": "Customer ID",
                "spend": "Total Spent",
                "frequency": "Total Orders",
                "city": "Default Address City",
            },
        ),
        (
            WOOCOMMERCE,
            ",",
            {
                "customer_id": "Email",
                "aov": "AOV",
                "spend": "Total spend",
                "frequency": "Orders",
                "city": "City",
            },
        ),
        (
            ["Kundennummer", "Umsatz", "Bestellungen", "Tage seit letztem Kauf"],
            ";",
            {
                "customer_id": "Kundennummer",
                "recency": "Tage seit letztem Kauf",
                "spend": "Umsatz",
                "frequency": "Bestellungen",
            },
        ),
    ],
    ids=["shopify", "woocommerce", "german"],
)
def test_init_maps_every_role_that_has_a_column(tmp_path, header, delimiter, expected):
    _table(tmp_path / "export.csv", header, delimiter)
    result = run_cli("init", "--data", "export.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = config.load(tmp_path / "reportgen.toml")
    assert dict(written.columns) == expected
    assert "no column was recognised" not in result.stderr
    assert "then run `reportgen run`" in result.stderr


def _sections(text: str) -> dict[str, str]:
    """The file cut at its table headers, commented ("# [email]") or not."""
    parts: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        header = re.fullmatch(r"#? ?\[([a-z_.]+)\]", line.strip())
        if header:
            name = header.group(1)
        else:
            parts[name] = parts.get(name, "") + line + "\n"
    return parts


_KEY_LINE = re.compile(r"#? ?[a-z_]+ = ")


def _commented(lines: list[str], index: int) -> bool:
    """A key line has a comment of its own after the value, or a comment line above the
    block of key lines it belongs to."""
    if "  # " in lines[index]:
        return True
    while index > 0 and _KEY_LINE.match(lines[index - 1].strip()):
        index -= 1
    return index > 0 and lines[index - 1].strip().startswith("# ")


def test_init_writes_every_key_with_a_comment_and_the_file_gives_the_defaults(tmp_path):
    _table(tmp_path / "export.csv", SHOPIFY)
    result = run_cli("init", "--data", "export.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "reportgen.toml"
    text = path.read_text(encoding="utf-8")
    sections = _sections(text)
    expected = {table: list(declared(cls)) for table, cls in TABLES.items() if cls}
    expected["orders"] += ORDER_ROLES
    expected["email"] += AUDIENCE_KEYS
    for table, keys in expected.items():
        assert table in sections, f"[{table}] is not in the written config"
        lines = sections[table].splitlines()
        for key in keys:
            found = [i for i, line in enumerate(lines) if re.match(rf"#? ?{key} = ", line.strip())]
            assert found, f"[{table}] {key} is not in the written config"
            assert _commented(lines, found[0]), f"[{table}] {key} has no comment"
    loaded = config.load(path)
    roles = infer_roles(SHOPIFY)
    assert loaded == replace(
        Config(),
        data=replace(Config().data, path=tmp_path / "export.csv"),
        columns=dict(roles.columns),
        source=path.resolve(),
    )


def test_init_says_which_required_role_is_missing_and_what_to_do(tmp_path):
    (tmp_path / "notes.csv").write_text("Kundennummer,Notiz,Letzte Bestellung\n1,a,x\n2,b,y\n")
    result = run_cli("init", "--data", "notes.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-5:] == [
        "Columns holding dates, not used: 'Letzte Bestellung' (recency and tenure need a "
        "number of days)",
        "Wrote reportgen.toml, but no column was recognised for a required role:",
        '- spend: set [columns] spend = "<column name>" in reportgen.toml',
        "Columns found: 'Kundennummer', 'Notiz', 'Letzte Bestellung'",
        "Next: edit reportgen.toml as above, then run `reportgen validate` to check it.",
    ]
    text = (tmp_path / "reportgen.toml").read_text(encoding="utf-8")
    assert '# spend = ""   # no column found: REQUIRED, set it' in text


def test_a_detected_number_format_is_written_under_data(tmp_path):
    (tmp_path / "kunden.csv").write_text(
        "Kundennummer;Umsatz;Bewertung\n1;3.562;4,5\n2;12.500;3\n3;481;5\n", encoding="utf-8"
    )
    result = run_cli("init", "--data", "kunden.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "reportgen.toml").read_text(encoding="utf-8")
    assert re.search(r'^decimal_mark = ","  +# ', text, re.MULTILINE)
    assert re.search(r'^thousands_separator = "\."  +# ', text, re.MULTILINE)
    assert '#   "Umsatz": ",", "."' in text and '#   "Bewertung": ",", "none"' in text
    assert config.load(tmp_path / "reportgen.toml").data.numbers == numbers.Settings(",", ".")


def test_init_on_numbers_nothing_can_read_says_which_setting_to_write(tmp_path):
    (tmp_path / "a.tsv").write_text("Kunde\tUmsatz\n1\t3.562\n2\t12.500\n", encoding="utf-8")
    result = run_cli("init", "--data", "a.tsv", "--out", "a.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-2].startswith("Numbers: column 'Umsatz': its numbers can be read two ways")
    assert lines[-1] == (
        "Wrote a.toml: set [data] decimal_mark and thousands_separator in it as above, then "
        "run `reportgen validate --config a.toml` to check it."
    )
    text = (tmp_path / "a.toml").read_text(encoding="utf-8")
    assert '# decimal_mark = "auto"' in text


def test_init_writes_the_currency_the_amounts_are_written_in_and_validate_warns(tmp_path):
    (tmp_path / "eur.csv").write_text(
        "Kunde;Umsatz;Bestellungen\n1;€ 3.562;4\n2;12.500 €;7\n3;481,50 €;1\n", encoding="utf-8"
    )
    assert run_cli("init", "--data", "eur.csv", "--out", "e.toml", cwd=tmp_path).returncode == 0
    assert config.load(tmp_path / "e.toml").report.currency == "EUR"
    checked = run_cli("validate", "--data", "eur.csv", cwd=tmp_path)  # no config: USD
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[-1] == (
        "warning: the data's amounts are in EUR, but the brief shows [report] currency = "
        '"USD"; set [report] currency = "EUR" if the amounts are EUR'
    )
