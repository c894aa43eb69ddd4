"""segments.sql: the segment rules as one SQL CASE expression a warehouse can label rows with.

The expression reads the input's own columns (named as reportgen reads them: control
and text-direction characters removed, so none reaches the file) and reproduces what
validation did to them: text trimmed, an empty cell or a word for "no value" missing,
labels and yes/no words matched ignoring case, numbers read through text, and a missing
value filled as reportgen filled it. Nothing of the data enters it as SQL: a column name
is a quoted identifier (its quotes doubled), a value is a string literal that never
holds a quote or a backslash (those characters are spelled CHR(39) and CHR(92)), and
comments hold only reportgen's own words and numbers. So a column named
`"; DROP TABLE x; --` stays a column name. The types and functions used (VARCHAR,
DOUBLE PRECISION, TRIM, LOWER, CHR, COALESCE, NULLIF) are read alike by DuckDB,
PostgreSQL, Snowflake and Redshift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reportgen.rules import CATEGORY, LABELS, NUMBER, YES_NO, Condition, SegmentRules
from reportgen.validate import MISSING_WORDS, NO_WORDS, YES_WORDS

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


def _words(words: Iterable[str]) -> str:
    return ", ".join(literal(word) for word in sorted(words))


def _cell(condition: Condition) -> str:
    """The cell as validation reads it: text, trimmed, NULL when empty or, where a number,
    yes/no or level is expected, one of validate.MISSING_WORDS (a category keeps those)."""
    text = f"TRIM(CAST({identifier(condition.column)} AS VARCHAR))"
    if condition.kind == CATEGORY:
        return f"NULLIF({text}, '')"
    missing = _words({""} | MISSING_WORDS)
    return f"CASE WHEN LOWER({text}) IN ({missing}) THEN NULL ELSE {text} END"


def condition_sql(condition: Condition, fills: Mapping[str, str]) -> str:
    """One condition as an SQL boolean expression: a missing cell counts as the value
    validation filled it with (`fills`, role -> text), else as not matching."""
    cell, fill = _cell(condition), fills.get(condition.role)
    if condition.kind == NUMBER:
        value = f"CAST({cell} AS DOUBLE PRECISION)"
        value = value if fill is None else f"COALESCE({value}, {number(float(fill))})"
        return f"COALESCE({value} {condition.operator} {number(condition.value)}, FALSE)"
    if condition.kind == YES_NO:
        yes = condition.value == 1.0
        test = f"LOWER({cell}) IN ({_words(YES_WORDS if yes else NO_WORDS)})"
        filled = fill is not None and (fill == "yes") == yes
        return f"COALESCE({test}, {'TRUE' if filled else 'FALSE'})"
    if condition.kind == LABELS:
        value = f"LOWER({cell})"
        value = value if fill is None else f"COALESCE({value}, {literal(fill.lower())})"
        levels = _words(level.lower() for level in condition.levels)
        return f"COALESCE({value} IN ({levels}), FALSE)"
    value = cell if fill is None else f"COALESCE({cell}, {literal(fill)})"
    level = literal(condition.levels[0])
    if condition.operator == "=":
        return f"COALESCE({value} = {level}, FALSE)"
    return f"COALESCE({value} <> {level}, TRUE)"


def rule_sql(conditions: tuple[Condition, ...], fills: Mapping[str, str]) -> str:
    """A rule as one SQL boolean expression."""
    return " AND ".join(f"({condition_sql(c, fills)})" for c in conditions) or "TRUE"


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
        body.append(f"  WHEN {rule_sql(rule.conditions, rules.fills)} THEN {segment}")
    body += ["  ELSE NULL", "END", ""]
    return "\n".join(lines + body)
