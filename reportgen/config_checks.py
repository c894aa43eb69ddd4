"""The checks of raw TOML values, one per kind of setting.

Each takes where the value sits ("[report] paper") and the value as TOML gave it, and
returns it as reportgen uses it or raises a ConfigError that names the key, what was
given and what is allowed. reportgen/config.py declares which check each key takes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from email.utils import formataddr, getaddresses, parseaddr
from pathlib import Path
from typing import Any

from babel import UnknownLocaleError

from reportgen import names, numbers, periods
from reportgen.errors import ConfigError
from reportgen.formatting import parse_locale
from reportgen.roles import ROLE_BY_NAME, ROLES, Kind

Check = Callable[[str, Any], Any]


def fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"config {where}: {message}")


def string(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise fail(where, f"expected a text value in quotes, got {value!r}")
    return value


def choice(*allowed: str) -> Callable[[str, Any], str]:
    def check(where: str, value: Any) -> str:
        if value not in allowed:
            # JSON escapes what would print as a blank ("\u202f" beside " ")
            options = ", ".join(json.dumps(a) for a in allowed)
            raise fail(where, f"{value!r} is not allowed; use one of {options}")
        return str(value)

    return check


def number(low: float, high: float) -> Callable[[str, Any], float]:
    def check(where: str, value: Any) -> float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not low <= value <= high:
            raise fail(where, f"expected a number from {low:g} to {high:g}, got {value!r}")
        return float(value)

    return check


def integer(low: int, high: int | None = None) -> Callable[[str, Any], int]:
    def check(where: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(where, f"expected a whole number, got {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise fail(where, f"{value} is out of range; use a whole number {bound}")
        return value

    return check


def share(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise fail(where, f"expected a number from 0 to 1, got {value!r}")
    return float(value)


def boolean(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(where, f"expected true or false, got {value!r}")
    return value


def slug(where: str, value: Any) -> str:
    text = string(where, value)
    if not names.is_slug(text):
        raise fail(where, names.slug_problem(text))
    return text


def period(where: str, value: Any) -> str:
    text = string(where, value)
    if not periods.is_period_text(text):
        raise fail(where, periods.problem(text))
    return text


def currency(where: str, value: Any) -> str:
    text = string(where, value)
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise fail(where, f'{text!r} is not a three-letter currency code such as "USD"')
    return text


def locale(where: str, value: Any) -> str:
    """A locale Babel has data for ("de_DE", "de-DE" or "de"), kept as Babel names it."""
    text = string(where, value)
    problem = f'{text!r} is not a known locale; use a language and region such as "de_DE"'
    try:
        found = parse_locale(text)
    except (ValueError, UnknownLocaleError):
        raise fail(where, problem) from None
    # Babel drops what it cannot read ("de_Schweiz" is "de", "C" is "en_US_POSIX"): a
    # locale counts only when every part of it was understood, so Swiss or British
    # formats never silently become German or American ones.
    if str(found).lower() != text.replace("-", "_").lower() or found.language == "root":
        raise fail(where, f"{problem} (it reads as {str(found)!r})")
    return str(found)


_DATE_DIRECTIVE = re.compile(r"%(-?)(.?)", re.DOTALL)
_DIRECTIVES = set("abcdfghjmnpuwxyzABGHIMSTUVWXYZ%")
"""The directives DuckDB's strptime reads (it parses [data] date_format, late, deep in
a query); the "-" flag only on the numbers below."""
_UNPADDED = set("djmyHIMS")


def date_format(where: str, value: Any) -> str:
    text = string(where, value)
    for found in _DATE_DIRECTIVE.finditer(text):
        flag, letter = found.groups()
        if letter not in (_UNPADDED if flag else _DIRECTIVES):
            raise fail(
                where,
                f"{text!r} has {found.group()!r}, which is not a date directive; use "
                'directives such as %Y, %m, %d, %H, %M and %S, and %% for "%"',
            )
    return text


def color(where: str, value: Any) -> str:
    text = string(where, value)
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        raise fail(where, f'{text!r} is not a colour; use #rrggbb, such as "#1f4e79"')
    return text.lower()


def thousands(where: str, value: Any) -> str:
    """A thousands separator as the data writes it; the no-break and thin spaces French
    and Swiss exports use are the space."""
    if isinstance(value, str) and len(value) == 1 and value in numbers.SPACES:
        value = " "  # ("" is in every string: before, an empty value became a space)
    return choice("auto", ",", ".", " ", "'", "none")(where, value)


def path(where: str, value: Any) -> Path:
    return Path(string(where, value))


URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")
"""A location with a scheme (s3a://, hdfs://, file:/): Spark reads it; never a local path.
(Two letters at least: "C:/data" is a Windows path.)"""


def location(where: str, value: Any) -> Path | str:
    """A local path, or a URI (kept as text: a Path would fold its "//")."""
    text = string(where, value)
    return text if URI.match(text) else Path(text)


def spark_remote(where: str, value: Any) -> str:
    text = string(where, value)
    if re.search(r";\s*token\s*=", text, re.IGNORECASE):
        raise fail(
            where,
            "holds a token, which never goes in the config (nor is shown); PySpark reads it "
            "from the environment variable SPARK_CONNECT_AUTHENTICATE_TOKEN",
        )
    if not re.fullmatch(r"sc://[^\s/;]+(/.*)?", text):
        raise fail(where, f"expected a Spark Connect address such as sc://host:15002, got {text!r}")
    return text


def table_name(where: str, value: Any) -> str:
    text = string(where, value)
    if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*){0,2}|`[^`]+`", text):
        raise fail(where, f"expected a table name such as catalog.schema.orders, got {text!r}")
    return text


_SECRET_CONF = re.compile(
    r"secret|password|token|credentials?(?!\.provider)|keytab|\.key(\.|$)|sas|signature",
    re.IGNORECASE,
)
"""A Spark setting that holds a credential (a credentials provider names a class that
finds them elsewhere, which is the way to keep them out)."""
_SECRET_VALUE = re.compile(r"-D\S*(secret|password|token|key)\S*=", re.IGNORECASE)
"""A credential passed as a Java system property, as in extraJavaOptions."""


def spark_conf(where: str, value: Any) -> dict[str, str]:
    """Spark settings as text, as Spark takes them; credentials are refused (they belong
    in the environment or the cluster's own configuration, never in this file)."""
    if not isinstance(value, dict):
        raise fail(where, 'expected a table such as { "spark.sql.shuffle.partitions" = 64 }')
    found = {}
    for key, item in value.items():
        if _SECRET_CONF.search(key) or _SECRET_VALUE.search(str(item)):
            raise fail(
                f"{where} {key}",
                "looks like a credential, which never goes in the config; set it in the "
                "environment or in the cluster's spark-defaults.conf",
            )
        if isinstance(item, bool):
            found[key] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            found[key] = str(item)
        else:
            raise fail(f"{where} {key}", f"expected text, a number or true/false, got {item!r}")
    return found


def rating_scale(where: str, value: Any) -> tuple[float, float]:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and value[0] < value[1]
    )
    if not ok:
        raise fail(where, f"expected [lowest, highest] such as [1, 5], got {value!r}")
    return (float(value[0]), float(value[1]))


def levels(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, str) for v in value):
        raise fail(where, f"expected a list of at least two labels, lowest first, got {value!r}")
    lowered = [v.strip().lower() for v in value]
    if len(set(lowered)) != len(lowered):
        raise fail(where, f"labels must be distinct (ignoring case), got {value!r}")
    return tuple(value)


def drivers(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise fail(where, f"expected a list of role names, got {value!r}")
    for role in value:
        if role not in ROLE_BY_NAME or ROLE_BY_NAME[role].kind is Kind.ID:
            allowed = ", ".join(r.name for r in ROLES if r.kind is not Kind.ID)
            raise fail(
                where, f"{role!r} is not a role that can drive segments; use any of {allowed}"
            )
    return tuple(dict.fromkeys(value))


_MAILBOX = re.compile(r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+")
_HIDDEN_BREAK = re.compile(r"[\r\n\v\f\x85\u2028\u2029]|%0[ad]|=\?", re.IGNORECASE)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def header_text(where: str, value: Any) -> str:
    """Text bound for a mail header: a line break, raw or encoded, could forge headers."""
    text = string(where, value)
    if _HIDDEN_BREAK.search(text):
        raise fail(where, f"must not contain line breaks or encoded text, got {text!r}")
    return text


def address(where: str, value: Any) -> str:
    text = header_text(where, value)
    if len(getaddresses([text])) > 1:  # parseaddr would keep the first and drop the rest
        raise fail(where, f"holds more than one address ({text!r}); list each on its own")
    name, mailbox = parseaddr(text)
    if not _MAILBOX.fullmatch(mailbox):
        raise fail(where, f'expected an address such as "Ann Lee <ann@example.com>", got {text!r}')
    return formataddr((name, mailbox)) if name else mailbox


def addresses(where: str, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise fail(where, f"expected an address or a list of addresses, got {value!r}")
    return tuple(address(f"{where}[{i}]", item) for i, item in enumerate(items))


def env_name(where: str, value: Any) -> str:
    text = string(where, value)
    if not _ENV_NAME.fullmatch(text):
        raise fail(
            where,
            "expected the NAME of an environment variable (such as SMTP_PASSWORD); the value "
            "is not shown, in case it is the credential itself, which never goes in the config",
        )
    return text


def host(where: str, value: Any) -> str:
    text = string(where, value)
    if not text or any(c.isspace() for c in text):
        raise fail(where, f"expected a host name, got {text!r}")
    return text


def day(where: str, value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(string(where, value))
    except ValueError:
        raise fail(where, f"expected a day such as 2026-11-30, got {value!r}") from None
