"""The config written out as TOML: values, and the reference of every key.

Both the README's config reference and the file `reportgen init` writes are made here
from the keys' declarations in config.py, so a key's default, example and one-line
documentation are written once (tests/unit/test_config_text.py keeps the README equal).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reportgen.config import AUDIENCE_KEYS, ORDER_COLUMNS, TABLES, Key, declared
from reportgen.terminal import BIDI_CONTROLS

COMMENT_COLUMN = 32
"""Where a line's comment starts, so the comments of a table line up."""
OPTIONAL_TABLES = ("orders", "email", "spark")
"""Tables `init` writes commented out: they matter only for order logs and sending."""
COLUMN_EXAMPLES = {"customer_id": "Customer ID", "spend": "Total Spend"}
"""The required roles, with a column name as exports write it."""
AUDIENCE_EXAMPLES: Mapping[str, tuple[list[str], str]] = {
    "to": (["ann@example.com", "Bob Stone <bob@example.com>"], "an address or a list"),
    "cc": ([], "copied, in the headers"),
    "bcc": (["archive@example.com"], "in the envelope only, never in the headers"),
}


def toml_value(value: Any) -> str:
    """A Python value written as TOML, for the `init` template."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if value is None:
        raise ValueError("TOML has no null; leave the key out instead")
    # A JSON string is a TOML basic string, once DEL (which JSON leaves raw and TOML
    # refuses) is escaped too: line breaks, quotes and other control characters already
    # are, so data can never end a comment or a string and start a table of its own.
    # What an editor would act on rather than show (C1 controls such as U+0085, line
    # separators, text-direction overrides) is escaped as well, so the file a person
    # reviews reads as it parses.
    text = json.dumps(str(value), ensure_ascii=False)
    return _HIDDEN_IN_TOML.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


_HIDDEN_IN_TOML = re.compile(f"[\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")


@dataclass(frozen=True)
class Table:
    """One table of the reference: its header line and its key lines."""

    name: str
    header: str
    lines: tuple[str, ...]


def _with_doc(text: str, doc: str) -> str:
    """A line with its comment at COMMENT_COLUMN (two spaces after a longer line)."""
    return f"{text}{' ' * max(2, COMMENT_COLUMN - len(text))}# {doc}" if doc else text


def line(key: str, value: Any, doc: str = "", *, commented: bool = False) -> str:
    """`key = value   # doc`, commented out ("# key = ...") when asked."""
    return _with_doc(f"{'# ' if commented else ''}{key} = {toml_value(value)}", doc)


def _value(spec: Key, default: Any) -> tuple[Any, bool]:
    """What a key's line shows, and whether it is commented out: the default, "auto",
    or for a key not set by default an example."""
    if default is None and spec.auto:
        return "auto", False
    if default is None:
        return spec.example, True
    return default, False


def settings_lines(
    name: str, given: Mapping[str, Any], shown: Mapping[str, Any], commented: bool
) -> list[str]:
    """One line per declared key of a table: `given` values written as set, `shown`
    ones (found in the data) commented out, the rest as their declaration says."""
    cls = TABLES[name]
    assert cls is not None
    found = []
    for key, (each, spec) in declared(cls).items():
        value, off = _value(spec, each.default)
        off = off or commented
        if key in given:
            value, off = given[key], False
        elif key in shown:
            value, off = shown[key], True
        found.append(line(key, value, spec.doc, commented=off))
    return found


def _order_columns() -> list[str]:
    """[orders] keys naming the log's columns, as commented examples."""
    return [
        line(role, example, doc, commented=True) for role, (example, doc) in ORDER_COLUMNS.items()
    ]


def _audiences() -> list[str]:
    """The recipients of [email] and a named audience, as commented examples."""
    board = _with_doc("# [email.audiences.board]", "another audience: its own message")
    return [
        *(line(key, *AUDIENCE_EXAMPLES[key], commented=True) for key in AUDIENCE_KEYS),
        board,
        line("to", ["board@example.com"], commented=True),
    ]


def _spark_conf() -> list[str]:
    """[spark.conf], as a commented example."""
    return [
        _with_doc("# [spark.conf]", "any Spark setting; never a credential"),
        line('"spark.sql.shuffle.partitions"', 64, commented=True),
    ]


def _columns() -> list[str]:
    header = "[columns]"
    return [
        f'{header:<{COMMENT_COLUMN - 1}} # role = "column name"; "" switches a role off',
        *(
            line(role, example, "required", commented=True)
            for role, example in COLUMN_EXAMPLES.items()
        ),
    ]


def reference() -> str:
    """The README's config reference: every table and key with its default and doc."""
    parts = []
    for name in TABLES:
        if name == "columns":
            parts.append(_columns())
            continue
        before = _order_columns() if name == "orders" else []
        after = {"email": _audiences, "spark": _spark_conf}.get(name, list)()
        parts.append([f"[{name}]", *before, *settings_lines(name, {}, {}, False), *after])
    return "\n\n".join("\n".join(part) for part in parts) + "\n"


def init_tables(
    given: Mapping[str, Mapping[str, Any]], shown: Mapping[str, Mapping[str, Any]]
) -> list[Table]:
    """The tables `reportgen init` writes: every key commented out with its default,
    except `given` ones (found in the data: its path, currency, number format), and
    `shown` ones commented out with what the data suggests (the drivers). The tables
    only order logs or sending need are commented out whole; [columns] lines are the
    template's (they list every role, found or not)."""
    tables = []
    for name in TABLES:
        if name == "columns":
            tables.append(Table(name, "[columns]", ()))
            continue
        optional = name in OPTIONAL_TABLES
        before = _order_columns() if name == "orders" else []
        after = {"email": _audiences, "spark": _spark_conf}.get(name, list)()
        lines = settings_lines(name, given.get(name, {}), shown.get(name, {}), True)
        header = f"# [{name}]" if optional else f"[{name}]"
        tables.append(Table(name, header, (*before, *lines, *after)))
    return tables
