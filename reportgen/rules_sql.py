"""segments.sql: the segment rules as one SQL CASE expression a warehouse can label rows with.

The expression reads the input's own columns and reproduces what validation did to
them: text trimmed, labels and yes/no words matched ignoring case, an empty cell
missing, and a missing value filled as reportgen filled it. Nothing of the data enters
it as SQL: a column name is a quoted identifier (its quotes doubled), a value is a
string literal that never holds a quote or a backslash (those characters are spelled
CHR(39) and CHR(92)), and comments hold only reportgen's own words and numbers. So a
column named `"; DROP TABLE x; --` stays a column name in every SQL dialect that quotes
identifiers with double quotes (DuckDB, PostgreSQL, Snowflake, Redshift, SQL Server).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reportgen.rules import LABELS, NUMBER, YES_NO, Condition, SegmentRules
from reportgen.validate import NO_WORDS, YES_WORDS

SQL_FILE = "segments.sql"


def identifier(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """`text` as an SQL string literal with no quote or backslash inside it (dialects
    disagree on backslashes), those characters joined in with CHR()."""
    parts = []
    plain = ""
    for char in text:
        if char in "'\\":
            if plain:
                parts.append(f"'{plain}'")
            parts.append(f"CHR({ord(char)})")
            plain = ""
        else:
            plain += char
    if plain or not parts:
        parts.append(f"'{plain}'")
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def number(value: float) -> str:
    return f"{value:.15g}"


def _words(words: set[str]) -> str:
    return ", ".join(literal(word) for word in sorted(words))


def _text(condition: Condition, names: _Names) -> str:
    """The column as reportgen read it: trimmed, an empty cell missing, then filled."""
    value = f"NULLIF(TRIM(CAST({names.column(condition)} AS VARCHAR)), '')"
    if condition.kind == LABELS:
        value = f"LOWER({value})"
    fill = names.fills.get(condition.role)
    if fill is None:
        return value
    return f"COALESCE({value}, {literal(fill.lower() if condition.kind == LABELS else fill)})"


@dataclass(frozen=True)
class _Names:
    """What a condition's SQL needs besides the condition: the column's name in the file,
    and the values validation filled missing cells with."""

    fills: Mapping[str, str]
    sources: Mapping[str, str]

    def column(self, condition: Condition) -> str:
        return identifier(self.sources.get(condition.column, condition.column))


def condition_sql(condition: Condition, rules: SegmentRules) -> str:
    """One condition as an SQL boolean expression (never NULL where reportgen has a value).
    A number is read through text, so a column typed as text in the warehouse works too."""
    names = _Names(rules.fills, rules.sources)
    fill = names.fills.get(condition.role)
    if condition.kind == NUMBER:
        value = f"CAST({_text(condition, _Names({}, rules.sources))} AS DOUBLE)"
        value = value if fill is None else f"COALESCE({value}, {fill})"
        return f"{value} {condition.operator} {number(condition.value)}"
    if condition.kind == YES_NO:
        words = YES_WORDS if condition.value == 1.0 else NO_WORDS
        read = f"LOWER(TRIM(CAST({names.column(condition)} AS VARCHAR)))"
        filled = (
            "FALSE"
            if fill is None
            else ("TRUE" if (fill == "yes") == (condition.value == 1.0) else "FALSE")
        )
        return f"COALESCE({read} IN ({_words(words)}), {filled})"
    text = _text(condition, names)
    if condition.kind == LABELS:
        levels = ", ".join(literal(level.lower()) for level in condition.levels)
        return f"COALESCE({text} IN ({levels}), FALSE)"
    level = literal(condition.levels[0])
    if condition.operator == "=":
        return f"COALESCE({text} = {level}, FALSE)"
    return f"COALESCE({text} <> {level}, TRUE)"


def rule_sql(conditions: tuple[Condition, ...], rules: SegmentRules) -> str:
    """A rule as one SQL boolean expression."""
    return " AND ".join(f"({condition_sql(c, rules)})" for c in conditions) or "TRUE"


def segments_sql(rules: SegmentRules, report: str, period: str) -> str:
    """segments.sql: a header saying what it is, then the CASE expression."""
    lines = [
        f"-- reportgen segment rules, report {report}, period {period}.",
        "-- One SQL expression: the segment id of the first rule a row matches, in order of",
        "-- descending precision; NULL when it matches none. Use it in a SELECT over the table",
        "-- reportgen read, e.g. SELECT *, <this expression> AS segment FROM customers.",
    ]
    if rules.derived:
        lines += [
            "-- The input was an order log: the expression reads one row per customer with the",
            "-- figures reportgen derives from it, named "
            + ", ".join(sorted({c.column for r in rules.segments for c in r.conditions}))
            + ".",
        ]
    if not rules.order:
        return "\n".join([*lines, "-- No segment has a short rule.", "CAST(NULL AS INTEGER)", ""])
    body = ["CASE"]
    for segment in rules.order:
        rule = rules.rule(segment)
        body.append(
            f"  -- segment {segment}: precision {rule.precision:.3f}, recall {rule.recall:.3f}"
        )
        body.append(f"  WHEN {rule_sql(rule.conditions, rules)} THEN {segment}")
    body += ["  ELSE NULL", "END", ""]
    return "\n".join(lines + body)
