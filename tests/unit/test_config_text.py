"""One declaration per config key: the README's reference, `init`'s file and parsing
all come from it, and the README cannot drift from it."""

from __future__ import annotations

import re
import tomllib

import pytest

from reportgen import config_text
from reportgen.config import AUDIENCE_KEYS, ORDER_ROLES, TABLES, Config, declared, parse
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
_BLOCK = re.compile(r"```toml\n(.*?)```", re.DOTALL)


def _reference_block() -> str:
    config = README[README.index("\n## Config\n") :]
    found = _BLOCK.search(config)
    assert found, "the Config section has no TOML block"
    return found.group(1)


def _uncommented(text: str) -> str:
    """The reference with every example switched on ("# key = value" -> "key = value")."""
    return "\n".join(re.sub(r"^# (?=[a-z_\[])", "", line) for line in text.splitlines())


def test_the_readme_reference_is_the_one_made_from_the_declarations():
    assert _reference_block() == config_text.reference()


def test_the_reference_as_written_is_the_default_config():
    assert parse(tomllib.loads(config_text.reference())) == Config()


def test_every_example_in_the_reference_passes_its_own_check():
    raw = tomllib.loads(_uncommented(config_text.reference()))
    # [data] takes a path or a table (for Spark), not both: the table is checked alone.
    table = raw["data"].pop("table")
    assert parse({"engine": {"name": "spark"}, "data": {"table": table}}).data.table == table
    parsed = parse(raw)
    assert parsed.report.logo is not None and parsed.email.sender is not None
    assert [a.name for a in parsed.email.audiences] == ["stakeholders", "board"]
    assert set(parsed.orders.columns) == set(ORDER_ROLES)


def test_every_key_is_declared_with_a_check_and_one_line_of_documentation():
    for name, cls in TABLES.items():
        if cls is None:
            continue
        for key, (_, spec) in declared(cls).items():
            assert spec.doc and "\n" not in spec.doc, (name, key)
            assert spec.doc in config_text.reference(), (name, key)


@pytest.mark.parametrize("block", _BLOCK.findall(README), ids=lambda b: b.split("\n")[0])
def test_every_key_in_a_readme_example_is_declared(block):
    table = ""
    for line in _uncommented(block).splitlines():
        header = re.match(r"\[([a-z_.]+)\]", line)
        if header:
            table = header.group(1)
            continue
        key = re.match(r"([a-z_]+) = ", line)
        if not key or not table:
            continue
        name = key.group(1)
        if table == "columns":
            continue  # roles: checked when parsed (unknown role)
        if table.startswith("email.audiences."):
            assert name in AUDIENCE_KEYS, (table, name)
            continue
        cls = TABLES[table]
        extra = {"orders": ORDER_ROLES, "email": AUDIENCE_KEYS}.get(table, ())
        assert cls is not None and (name in declared(cls) or name in extra), (table, name)


def test_an_unknown_key_lists_the_declared_ones():
    with pytest.raises(Exception, match=r"allowed keys are title, company, currency, slug"):
        parse({"report": {"titel": "x"}})
