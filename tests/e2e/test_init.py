"""`reportgen init`: every key written with its default, the roles of common exports
mapped, and what is still missing said on the terminal."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from reportgen import config
from reportgen.config import _EMAIL_KEYS, _ORDER_KEYS, _SCHEMA, ORDER_ROLES, Config
from tests.conftest import run_cli
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
    if "   # " in lines[index]:
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
    expected = {table: list(checks) for table, (_, checks) in _SCHEMA.items()}
    expected["orders"] = [*ORDER_ROLES, *_ORDER_KEYS]
    expected["email"] = [*_EMAIL_KEYS, "to", "cc", "bcc"]
    for table, keys in expected.items():
        assert table in sections, f"[{table}] is not in the written config"
        lines = sections[table].splitlines()
        for key in keys:
            found = [i for i, line in enumerate(lines) if re.match(rf"#? ?{key} = ", line.strip())]
            assert found, f"[{table}] {key} is not in the written config"
            assert _commented(lines, found[0]), f"[{table}] {key} has no comment"
    loaded = config.load(path)
    roles = config.infer_roles(SHOPIFY)
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
    """The template takes the detected formats: per column as comments, and a file-wide
    pair as the [data] settings."""
    import jinja2

    from reportgen.resources import templates_dir
    from reportgen.roles import ROLES

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["toml"] = config.toml_value
    roles = config.infer_roles(["Kundennummer", "Umsatz"])
    text = environment.get_template("reportgen.toml.j2").render(
        data_path="de.csv",
        roles=ROLES,
        columns=roles.columns,
        unused=roles.unused,
        defaults=Config(),
        drivers=config.drivers_for(Config(), roles),
        number_formats={"Umsatz": (",", ".")},
        number_format=(",", "."),
    )
    assert '\ndecimal_mark = ","\n' in text and '\nthousands_separator = "."\n' in text
    assert '#   "Umsatz": ",", "."' in text
    path = tmp_path / "reportgen.toml"
    path.write_text(text, encoding="utf-8")
    loaded = config.load(path)
    assert (loaded.data.decimal_mark, loaded.data.thousands_separator) == (",", ".")
