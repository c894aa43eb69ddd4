"""Reading and validating the TOML config, and inferring column roles.

The config is validated once, here, into frozen dataclasses; later stages trust
it. Every key has a default, so an empty file (or none) is a valid config. An
error names the table and key, what was given and what is allowed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.utils import formataddr, getaddresses, parseaddr
from pathlib import Path
from typing import Any

from babel import UnknownLocaleError
from babel.numbers import get_decimal_symbol, get_group_symbol

from reportgen import column_names, names, numbers
from reportgen.errors import ConfigError
from reportgen.formatting import parse_locale
from reportgen.fsutil import parse_small
from reportgen.roles import DEFAULT_DRIVERS, ROLE_BY_NAME, ROLES, Kind
from reportgen.terminal import BIDI_CONTROLS

DEFAULT_CONFIG_NAME = "reportgen.toml"


@dataclass(frozen=True)
class ReportSettings:
    title: str = "Customer segments"
    company: str = ""
    currency: str = "USD"
    slug: str = "customer-segments"
    locale: str = "en_US"
    """How numbers, money, percentages and dates are written (Babel / CLDR), e.g. "de_DE"."""
    decimal_mark: str | None = None
    """Overrides the locale's decimal mark in every number; None: the locale's."""
    thousands_separator: str | None = None
    """Overrides the locale's grouping symbol ("" for none); None: the locale's."""
    primary_color: str = "#1f4e79"
    logo: Path | None = None
    paper: str = "A4"
    min_segment_size: int = 10
    templates: Path | None = None
    """A folder whose templates override the default ones by name."""
    personas: Path | None = None
    """A persona library file; default: personas.yaml from the template folders."""


@dataclass(frozen=True)
class DataSettings:
    path: Path | None = None
    kind: str = "customers"
    date_format: str | None = None
    max_file_mb: float = 2048.0
    """Larger input is refused before it is read (order logs: all files together)."""
    max_columns: int = 1000
    """A customer table with more columns is refused before it is parsed."""
    decimal_mark: str = "auto"
    """How the input writes numbers: "auto" (each column's values decide, see numbers.py),
    "." or ","."""
    thousands_separator: str = "auto"
    """"auto", or the separator between thousands: ",", ".", " ", "'" or "none"."""

    @property
    def numbers(self) -> numbers.Settings:
        """The two settings as the number reader takes them (None: decided by the data)."""
        thousands = self.thousands_separator
        return numbers.Settings(
            decimal_mark=None if self.decimal_mark == "auto" else self.decimal_mark,
            thousands_separator={"auto": None, "none": ""}.get(thousands, thousands),
        )


ORDER_ROLES = ("customer_id", "order_date", "order_id", "amount", "quantity", "unit_price")


@dataclass(frozen=True)
class OrderSettings:
    """How to read an order log ([data] kind = "transactions")."""

    columns: Mapping[str, str] = field(default_factory=dict)
    """Order-log role -> column name; roles not given are inferred from column names."""
    return_prefix: str | None = None
    """Order ids starting with this mark returns or cancellations (e.g. "C")."""
    as_of: date | None = None
    """The day recency and tenure are counted to; default: the day after the last order."""
    min_date: date | None = None
    """Orders before this day are taken as data errors; None: no fixed floor (placeholder
    dates such as 1900-01-01 and dates far before the bulk of the log are still caught)."""
    duplicates: str = "drop"
    invalid_amounts: str = "drop"
    future_dates: str = "drop"


@dataclass(frozen=True)
class ValidationSettings:
    duplicates: str = "keep_last"
    missing: str = "impute"
    max_bad_share: float = 0.2
    max_missing_share: float = 0.5
    rating_scale: tuple[float, float] = (1.0, 5.0)
    satisfaction_levels: tuple[str, ...] = ("Unsatisfied", "Neutral", "Satisfied")
    tier_levels: tuple[str, ...] | None = None
    """The membership levels (tier role), lowest first, matched ignoring case and accents:
    the order the brief lists them in. None: a common ladder the values all belong to
    (categories.tier_order), else most common first. Only the order shown depends on it:
    a value it does not list is kept (after those it lists), and segments do not change."""


@dataclass(frozen=True)
class FeatureSettings:
    drivers: tuple[str, ...] | None = None
    """Roles that drive the clustering; None means every behavioural role present."""
    scaling: str = "standard"
    log_spend: bool = False
    """Always take log1p of spend before scaling."""
    log_skewed: bool = True
    """Take log1p of every non-negative numeric driver whose skewness exceeds SKEW_LIMIT
    (features.py), so a handful of extreme customers cannot stretch the scale."""
    one_hot: bool = True


@dataclass(frozen=True)
class SegmentationSettings:
    k: int | None = None
    """None means choose k automatically between k_min and k_max."""
    k_min: int = 2
    k_max: int = 8
    seed: int = 42
    sample_size: int = 20_000
    silhouette_sample: int = 4_000
    stability_runs: int = 10
    mode: str = "refit"
    """refit: fit afresh each period; frozen: score with the previous period's archived model."""
    min_share: float = 0.01
    """A fitted segment with fewer customers than this share (or than [report]
    min_segment_size) is dissolved into the nearest others and its customers reported."""


@dataclass(frozen=True)
class LevelSettings:
    """When a segment's figure is called high, low, recent, lapsed, lost or new (profile.py).

    None for a day threshold means: from the business's own rhythm where the data shows
    it (the median gap between a repeat customer's orders), else the documented default.
    """

    recent_days: float | None = None
    lapsed_days: float | None = None
    lost_days: float | None = None
    new_days: float = 90.0
    established_days: float = 365.0
    ratio: float = 1.25
    """The segment's median must be at least this many times the base median to be high
    (at most its inverse to be low)."""
    share_points: float = 0.10
    """Yes/no figures and shares: the segment must differ by this many points (0.10 = 10)."""
    rating_points: float | None = None
    """Ratings: the difference in scale points; None: a tenth of [validation] rating_scale."""
    ordinal_steps: float = 0.5
    """Ordered labels (satisfaction): the difference of the mean position, in steps."""
    repeat_orders: float = 2.0
    """Frequency is high only when the segment's median customer has at least this many."""
    frequency_counts: str = "auto"
    """What frequency counts: "orders", "items", or "auto" (from the column's name)."""


@dataclass(frozen=True)
class ArchiveSettings:
    keep: int = 0
    """Periods to keep per report when pruning; 0 keeps every period."""


@dataclass(frozen=True)
class Audience:
    """One group of stakeholders: one message, addressed to all of them."""

    name: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every envelope address (To, Cc and Bcc), bare, each once, in order. Domains are
        compared without case; the part before "@" may be case-sensitive, so it is kept."""
        bare = []
        for address in (*self.to, *self.cc, *self.bcc):
            local, _, domain = parseaddr(address)[1].rpartition("@")
            bare.append(f"{local}@{domain.lower()}")
        return tuple(dict.fromkeys(bare))


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class EmailSettings:
    sender: str | None = None
    """The From address ([email] from)."""
    audiences: tuple[Audience, ...] = ()
    subject: str = "{{ title }} — {{ period }}"
    """A Jinja template; title, company, period, customers and segments are defined."""
    host: str = "localhost"
    port: int | None = None
    """None: 587 for starttls, 465 for ssl, 25 for none."""
    security: str = "starttls"
    username_env: str | None = None
    password_env: str | None = None
    """Names of environment variables: credentials never sit in the config."""
    timeout: float = 30.0
    max_attachment_mb: float = 10.0
    attach_html: bool = False
    ca_file: Path | None = None
    """A PEM bundle to trust instead of the system's, e.g. a company's own CA."""
    retries: int = 3
    retry_wait: float = 2.0
    """Seconds before the first retry; doubled before each next one."""

    @property
    def server_port(self) -> int:
        return self.port or _DEFAULT_PORTS[self.security]


@dataclass(frozen=True)
class Config:
    report: ReportSettings = field(default_factory=ReportSettings)
    data: DataSettings = field(default_factory=DataSettings)
    columns: Mapping[str, str] = field(default_factory=dict)
    """Role -> column name as written in the config; "" switches a role off."""
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    features: FeatureSettings = field(default_factory=FeatureSettings)
    segmentation: SegmentationSettings = field(default_factory=SegmentationSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    orders: OrderSettings = field(default_factory=OrderSettings)
    levels: LevelSettings = field(default_factory=LevelSettings)
    source: Path | None = None
    """The file this config was read from, if any."""

    def as_dict(self) -> dict[str, Any]:
        """The config as used, for the manifest: plain JSON-able values."""
        return {
            "report": {
                key: str(value) if isinstance(value, Path) else value
                for key, value in vars(self.report).items()
            },
            "data": {**vars(self.data), "path": str(self.data.path) if self.data.path else None},
            "columns": dict(self.columns),
            "validation": {
                **vars(self.validation),
                "rating_scale": list(self.validation.rating_scale),
                "satisfaction_levels": list(self.validation.satisfaction_levels),
                "tier_levels": (
                    list(self.validation.tier_levels) if self.validation.tier_levels else None
                ),
            },
            "features": {
                **vars(self.features),
                "drivers": list(self.features.drivers) if self.features.drivers else None,
            },
            "segmentation": {**vars(self.segmentation), "k": self.segmentation.k or "auto"},
            "archive": vars(self.archive).copy(),
            "levels": vars(self.levels).copy(),
            "email": {
                **vars(self.email),
                "audiences": [vars(a) for a in self.email.audiences],
                "ca_file": str(self.email.ca_file) if self.email.ca_file else None,
            },
            "orders": {
                **vars(self.orders),
                "columns": dict(self.orders.columns),
                "as_of": self.orders.as_of.isoformat() if self.orders.as_of else None,
                "min_date": self.orders.min_date.isoformat() if self.orders.min_date else None,
            },
            "source": str(self.source) if self.source else None,
        }


# --- validation of raw TOML values -------------------------------------------------------


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"config {where}: {message}")


def _string(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(where, f"expected a text value in quotes, got {value!r}")
    return value


def _choice(*allowed: str) -> Callable[[str, Any], str]:
    def check(where: str, value: Any) -> str:
        if value not in allowed:
            # JSON escapes what would print as a blank ("\u202f" beside " ")
            options = ", ".join(json.dumps(a) for a in allowed)
            raise _fail(where, f"{value!r} is not allowed; use one of {options}")
        return value

    return check


def _number(low: float, high: float) -> Callable[[str, Any], float]:
    def check(where: str, value: Any) -> float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not low <= value <= high:
            raise _fail(where, f"expected a number from {low:g} to {high:g}, got {value!r}")
        return float(value)

    return check


def _integer(low: int, high: int | None = None) -> Callable[[str, Any], int]:
    def check(where: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(where, f"expected a whole number, got {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise _fail(where, f"{value} is out of range; use a whole number {bound}")
        return value

    return check


def _share(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _fail(where, f"expected a number from 0 to 1, got {value!r}")
    return float(value)


def _boolean(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"expected true or false, got {value!r}")
    return value


def _slug(where: str, value: Any) -> str:
    text = _string(where, value)
    if not names.is_slug(text):
        raise _fail(where, names.slug_problem(text))
    return text


def _currency(where: str, value: Any) -> str:
    text = _string(where, value)
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise _fail(where, f'{text!r} is not a three-letter currency code such as "USD"')
    return text


def _locale(where: str, value: Any) -> str:
    """A locale Babel has data for ("de_DE", "de-DE" or "de"), kept as Babel names it."""
    text = _string(where, value)
    problem = f'{text!r} is not a known locale; use a language and region such as "de_DE"'
    try:
        found = parse_locale(text)
    except (ValueError, UnknownLocaleError):
        raise _fail(where, problem) from None
    # Babel drops what it cannot read ("de_Schweiz" is "de", "C" is "en_US_POSIX"): a
    # locale counts only when every part of it was understood, so Swiss or British
    # formats never silently become German or American ones.
    if str(found).lower() != text.replace("-", "_").lower() or found.language == "root":
        raise _fail(where, f"{problem} (it reads as {str(found)!r})")
    return str(found)


_DATE_DIRECTIVE = re.compile(r"%(-?)(.?)", re.DOTALL)
_DIRECTIVES = set("abcdfghjmnpuwxyzABGHIMSTUVWXYZ%")
"""The directives DuckDB's strptime reads (it parses [data] date_format, late, deep in
a query); the "-" flag only on the numbers below."""
_UNPADDED = set("djmyHIMS")


def _date_format(where: str, value: Any) -> str:
    text = _string(where, value)
    for found in _DATE_DIRECTIVE.finditer(text):
        flag, letter = found.groups()
        if letter not in (_UNPADDED if flag else _DIRECTIVES):
            raise _fail(
                where,
                f"{text!r} has {found.group()!r}, which is not a date directive; use "
                'directives such as %Y, %m, %d, %H, %M and %S, and %% for "%"',
            )
    return text


def _color(where: str, value: Any) -> str:
    text = _string(where, value)
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", text):
        raise _fail(where, f'{text!r} is not a colour; use #rrggbb, such as "#1f4e79"')
    return text.lower()


def _thousands(where: str, value: Any) -> str:
    """A thousands separator as the data writes it; the no-break and thin spaces French
    and Swiss exports use are the space."""
    if isinstance(value, str) and len(value) == 1 and value in numbers.SPACES:
        value = " "  # ("" is in every string: before, an empty value became a space)
    return _choice("auto", ",", ".", " ", "'", "none")(where, value)


def _path(where: str, value: Any) -> Path:
    return Path(_string(where, value))


def _k(where: str, value: Any) -> int | None:
    if value == "auto":
        return None
    return _integer(2)(where, value)


def _days_or_auto(where: str, value: Any) -> float | None:
    if value == "auto":
        return None
    return _number(1, 36_500)(where, value)


def _positive_or_auto(where: str, value: Any) -> float | None:
    if value == "auto":
        return None
    return _number(0.001, 1_000_000)(where, value)


def _rating_scale(where: str, value: Any) -> tuple[float, float]:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and value[0] < value[1]
    )
    if not ok:
        raise _fail(where, f"expected [lowest, highest] such as [1, 5], got {value!r}")
    return (float(value[0]), float(value[1]))


def _levels(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, str) for v in value):
        raise _fail(where, f"expected a list of at least two labels, lowest first, got {value!r}")
    lowered = [v.strip().lower() for v in value]
    if len(set(lowered)) != len(lowered):
        raise _fail(where, f"labels must be distinct (ignoring case), got {value!r}")
    return tuple(value)


def _drivers(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail(where, f"expected a list of role names, got {value!r}")
    for role in value:
        if role not in ROLE_BY_NAME or ROLE_BY_NAME[role].kind is Kind.ID:
            allowed = ", ".join(r.name for r in ROLES if r.kind is not Kind.ID)
            raise _fail(
                where, f"{role!r} is not a role that can drive segments; use any of {allowed}"
            )
    return tuple(dict.fromkeys(value))


Check = Callable[[str, Any], Any]
_SCHEMA: dict[str, tuple[type, dict[str, Check]]] = {
    "report": (
        ReportSettings,
        {
            "title": _string,
            "company": _string,
            "currency": _currency,
            "locale": _locale,
            "slug": _slug,
            "decimal_mark": _choice(".", ","),
            "thousands_separator": _choice(",", ".", " ", "\u202f", "'", ""),
            "primary_color": _color,
            "logo": _path,
            "paper": _choice("A4", "Letter"),
            "min_segment_size": _integer(1),
            "templates": _path,
            "personas": _path,
        },
    ),
    "data": (
        DataSettings,
        {
            "path": _string,
            "kind": _choice("customers", "transactions"),
            "date_format": _date_format,
            "max_file_mb": _number(0.001, 1_000_000),
            "max_columns": _integer(2, 1_000_000),
            "decimal_mark": _choice("auto", ".", ","),
            "thousands_separator": _thousands,
        },
    ),
    "validation": (
        ValidationSettings,
        {
            "duplicates": _choice("keep_last", "keep_first", "error"),
            "missing": _choice("impute", "drop"),
            "max_bad_share": _share,
            "max_missing_share": _share,
            "rating_scale": _rating_scale,
            "satisfaction_levels": _levels,
            "tier_levels": _levels,
        },
    ),
    "features": (
        FeatureSettings,
        {
            "drivers": _drivers,
            "scaling": _choice("standard", "robust"),
            "log_spend": _boolean,
            "log_skewed": _boolean,
            "one_hot": _boolean,
        },
    ),
    "segmentation": (
        SegmentationSettings,
        {
            "k": _k,
            "k_min": _integer(2, 50),
            "k_max": _integer(2, 50),
            "seed": _integer(0, 2**32 - 1),
            "sample_size": _integer(100),
            "silhouette_sample": _integer(100),
            "stability_runs": _integer(0, 100),
            "mode": _choice("refit", "frozen"),
            "min_share": _number(0, 0.5),
        },
    ),
    "levels": (
        LevelSettings,
        {
            "recent_days": _days_or_auto,
            "lapsed_days": _days_or_auto,
            "lost_days": _days_or_auto,
            "new_days": _number(1, 36_500),
            "established_days": _number(1, 36_500),
            "ratio": _number(1.01, 100),
            "share_points": _number(0.001, 1),
            "rating_points": _positive_or_auto,
            "ordinal_steps": _number(0.01, 100),
            "repeat_orders": _number(1, 1_000_000),
            "frequency_counts": _choice("auto", "orders", "items"),
        },
    ),
    "archive": (ArchiveSettings, {"keep": _integer(0)}),
}
_TABLES = (*_SCHEMA, "columns", "email", "orders")

_MAILBOX = re.compile(r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+")
_HIDDEN_BREAK = re.compile(r"[\r\n\v\f\x85\u2028\u2029]|%0[ad]|=\?", re.IGNORECASE)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def header_text(where: str, value: Any) -> str:
    """Text bound for a mail header: a line break, raw or encoded, could forge headers."""
    text = _string(where, value)
    if _HIDDEN_BREAK.search(text):
        raise _fail(where, f"must not contain line breaks or encoded text, got {text!r}")
    return text


def _address(where: str, value: Any) -> str:
    text = header_text(where, value)
    if len(getaddresses([text])) > 1:  # parseaddr would keep the first and drop the rest
        raise _fail(where, f"holds more than one address ({text!r}); list each on its own")
    name, mailbox = parseaddr(text)
    if not _MAILBOX.fullmatch(mailbox):
        raise _fail(where, f'expected an address such as "Ann Lee <ann@example.com>", got {text!r}')
    return formataddr((name, mailbox)) if name else mailbox


def _addresses(where: str, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise _fail(where, f"expected an address or a list of addresses, got {value!r}")
    return tuple(_address(f"{where}[{i}]", item) for i, item in enumerate(items))


def _env_name(where: str, value: Any) -> str:
    text = _string(where, value)
    if not _ENV_NAME.fullmatch(text):
        raise _fail(
            where,
            "expected the NAME of an environment variable (such as SMTP_PASSWORD); the value "
            "is not shown, in case it is the credential itself, which never goes in the config",
        )
    return text


def _host(where: str, value: Any) -> str:
    text = _string(where, value)
    if not text or any(c.isspace() for c in text):
        raise _fail(where, f"expected a host name, got {text!r}")
    return text


_EMAIL_KEYS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "from": ("sender", _address),
    "subject": ("subject", header_text),
    "host": ("host", _host),
    "port": ("port", _integer(1, 65535)),
    "security": ("security", _choice("starttls", "ssl", "none")),
    "username_env": ("username_env", _env_name),
    "password_env": ("password_env", _env_name),
    "timeout": ("timeout", _number(1, 600)),
    "max_attachment_mb": ("max_attachment_mb", _number(0.001, 1000)),
    "attach_html": ("attach_html", _boolean),
    "ca_file": ("ca_file", _path),
    "retries": ("retries", _integer(0, 10)),
    "retry_wait": ("retry_wait", _number(0, 600)),
}
_AUDIENCE_KEYS = ("to", "cc", "bcc")


def _audience(where: str, name: str, raw: Mapping[str, Any]) -> Audience:
    lists = {key: _addresses(f"{where} {key}", raw[key]) for key in _AUDIENCE_KEYS if key in raw}
    if not lists.get("to"):
        raise _fail(f"{where} to", "at least one address is needed")
    return Audience(name=name, **lists)


def _day(where: str, value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(_string(where, value))
    except ValueError:
        raise _fail(where, f"expected a day such as 2026-11-30, got {value!r}") from None


_ORDER_KEYS: dict[str, Callable[[str, Any], Any]] = {
    "return_prefix": _string,
    "as_of": _day,
    "min_date": _day,
    "duplicates": _choice("drop", "keep"),
    "invalid_amounts": _choice("drop", "keep"),
    "future_dates": _choice("drop", "error"),
}


def _orders(raw: Any) -> OrderSettings:
    if not isinstance(raw, dict):
        raise _fail("[orders]", "must be a table")
    values: dict[str, Any] = {}
    columns = {}
    for key, value in raw.items():
        if key in ORDER_ROLES:
            columns[key] = _string(f"[orders] {key}", value)
        elif key in _ORDER_KEYS:
            values[key] = _ORDER_KEYS[key](f"[orders] {key}", value)
        else:
            allowed = ", ".join([*ORDER_ROLES, *_ORDER_KEYS])
            raise _fail(f"[orders] {key}", f"unknown key; allowed keys are {allowed}")
    return OrderSettings(columns=columns, **values)


def _email(raw: Any, source: Path | None) -> EmailSettings:
    if not isinstance(raw, dict):
        raise _fail("[email]", "must be a table")
    values: dict[str, Any] = {}
    audiences = []
    for key, value in raw.items():
        if key == "audiences":
            if not isinstance(value, dict) or not value:
                raise _fail("[email.audiences]", "expected tables such as [email.audiences.board]")
            for name, table in value.items():
                where = f"[email.audiences.{name}]"
                if not names.is_slug(name) or not isinstance(table, dict):
                    raise _fail(where, "expected a lower-case name and a table of to, cc, bcc")
                unknown = set(table) - set(_AUDIENCE_KEYS)
                if unknown:
                    raise _fail(f"{where} {sorted(unknown)[0]}", "unknown key; use to, cc, bcc")
                audiences.append(_audience(where, name, table))
        elif key in _AUDIENCE_KEYS:
            continue
        elif key in _EMAIL_KEYS:
            field_name, check = _EMAIL_KEYS[key]
            values[field_name] = check(f"[email] {key}", value)
        else:
            allowed = ", ".join([*_EMAIL_KEYS, *_AUDIENCE_KEYS, "audiences"])
            raise _fail(f"[email] {key}", f"unknown key; allowed keys are {allowed}")
    if any(key in raw for key in _AUDIENCE_KEYS):
        audiences.insert(0, _audience("[email]", "stakeholders", raw))
    settings = EmailSettings(audiences=tuple(audiences), **values)
    if settings.security == "none" and settings.host not in LOCAL_HOSTS:
        raise _fail(
            "[email] security",
            f'"none" sends in clear text, allowed only to this machine ({", ".join(LOCAL_HOSTS)});'
            f' {settings.host!r} needs "starttls" or "ssl"',
        )
    if settings.ca_file is not None and source is not None and not settings.ca_file.is_absolute():
        settings = replace(settings, ca_file=source.parent / settings.ca_file)
    return settings


def _section(name: str, raw: Any) -> Any:
    cls, checks = _SCHEMA[name]
    if not isinstance(raw, dict):
        raise _fail(f"[{name}]", "must be a table")
    values = {}
    for key, value in raw.items():
        if key not in checks:
            raise _fail(f"[{name}] {key}", f"unknown key; allowed keys are {', '.join(checks)}")
        values[key] = checks[key](f"[{name}] {key}", value)
    return cls(**values)


def _columns(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise _fail("[columns]", 'must be a table of role = "column name"')
    for role, column in raw.items():
        if role not in ROLE_BY_NAME:
            allowed = ", ".join(ROLE_BY_NAME)
            raise _fail(f"[columns] {role}", f"unknown role; roles are {allowed}")
        _string(f"[columns] {role}", column)
    duplicated = {c for c in raw.values() if c and list(raw.values()).count(c) > 1}
    if duplicated:
        raise _fail(
            "[columns]", f"column {sorted(duplicated)[0]!r} is mapped to more than one role"
        )
    return dict(raw)


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


def _check_marks(report: ReportSettings) -> None:
    """The decimal mark and the thousands separator in use must differ, whether both are
    given or one given meets the locale's other symbol ("1.234" would read both ways)."""
    if report.decimal_mark is None and report.thousands_separator is None:
        return
    locale = parse_locale(report.locale)
    decimal = report.decimal_mark or get_decimal_symbol(locale)
    group = report.thousands_separator
    if group is None:
        group = get_group_symbol(locale)
    if decimal != group:
        return
    if report.decimal_mark is not None and report.thousands_separator is not None:
        raise _fail("[report] thousands_separator", "must differ from decimal_mark")
    if report.decimal_mark is not None:
        raise _fail(
            "[report] decimal_mark",
            f"{decimal!r} is the thousands separator of locale {report.locale}; set "
            'thousands_separator too (e.g. thousands_separator = "\'")',
        )
    raise _fail(
        "[report] thousands_separator",
        f"{group!r} is the decimal mark of locale {report.locale}; set decimal_mark too "
        f'(e.g. decimal_mark = "{"," if group == "." else "."}")',
    )


def parse(raw: Mapping[str, Any], source: Path | None = None) -> Config:
    """Validate a parsed TOML document into a Config."""
    for table in raw:
        if table not in _TABLES:
            raise _fail(f"[{table}]", f"unknown table; tables are {', '.join(_TABLES)}")
    sections = {name: _section(name, raw[name]) for name in _SCHEMA if name in raw}
    data: DataSettings = sections.get("data", DataSettings())
    if raw.get("data", {}).get("path") is not None:
        path = Path(raw["data"]["path"])
        if source is not None and not path.is_absolute():
            path = source.parent / path  # relative to the config file, not the working folder
        data = replace(data, path=path)
    if data.decimal_mark != "auto" and data.decimal_mark == data.thousands_separator:
        raise _fail("[data] thousands_separator", "must differ from decimal_mark")
    report: ReportSettings = sections.get("report", ReportSettings())
    if source is not None:
        report = replace(
            report,
            **{
                name: source.parent / value
                for name in ("logo", "templates", "personas")
                if (value := getattr(report, name)) is not None and not value.is_absolute()
            },
        )
    _check_marks(report)
    segmentation: SegmentationSettings = sections.get("segmentation", SegmentationSettings())
    levels: LevelSettings = sections.get("levels", LevelSettings())
    days = [levels.recent_days, levels.lapsed_days, levels.lost_days]
    given = [d for d in days if d is not None]
    if given != sorted(given) or len(set(given)) != len(given):
        raise _fail(
            "[levels]",
            f"recent_days < lapsed_days < lost_days is needed, got {days} (None = auto)",
        )
    if levels.new_days >= levels.established_days:
        raise _fail("[levels] new_days", "must be smaller than established_days")
    if segmentation.k_min > segmentation.k_max:
        raise _fail(
            "[segmentation] k_min",
            f"k_min ({segmentation.k_min}) is larger than k_max ({segmentation.k_max})",
        )
    return Config(
        report=report,
        data=data,
        columns=_columns(raw.get("columns", {})),
        validation=sections.get("validation", ValidationSettings()),
        features=sections.get("features", FeatureSettings()),
        segmentation=segmentation,
        archive=sections.get("archive", ArchiveSettings()),
        email=_email(raw["email"], source) if "email" in raw else EmailSettings(),
        orders=_orders(raw["orders"]) if "orders" in raw else OrderSettings(),
        levels=levels,
        source=source,
    )


def load(path: Path | None) -> Config:
    """Read the config at `path`, or ./reportgen.toml if present, or use the defaults."""
    if path is None:
        default = Path(DEFAULT_CONFIG_NAME)
        if not default.is_file():
            return Config()
        path = default
    raw = parse_small(path, "config file", "TOML", tomllib.loads)
    try:
        return parse(raw, source=path.resolve())
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


# --- column roles ----------------------------------------------------------------------


@dataclass(frozen=True)
class RoleMap:
    """Which column plays which role in this data set."""

    columns: Mapping[str, str]
    """Role -> column, only for roles present."""
    inferred: tuple[str, ...]
    """Roles whose column was guessed from its name rather than set in the config."""
    unused: tuple[str, ...]
    """Columns of the data that play no role."""

    def column(self, role: str) -> str:
        return self.columns[role]

    def has(self, role: str) -> bool:
        return role in self.columns


def _words(name: str) -> list[str]:
    """A column name as words (column_names.words): case and accents folded, camelCase
    split, a plural "s" dropped, so "orders", "Order Count" and "CustomerID" all meet."""
    return list(column_names.words(name))


def hint_score(hint: str, column: str) -> int:
    """How well a hint phrase fits a column name: 0 none, 2 all words present, 3 exact."""
    hint_words, column_words = _words(hint), _words(column)
    if hint_words == column_words:
        return 3
    return 2 if all(word in column_words for word in hint_words) else 0


def infer_roles(columns: Iterable[str], explicit: Mapping[str, str] | None = None) -> RoleMap:
    """Map roles to columns: explicit entries first, the rest guessed from column names.

    Guessing is by name only, against the table reportgen/column_names.toml: roles
    claim columns in the order of ROLES, each taking the free column its names fit
    best (an exact name before one that only contains a phrase's words, an earlier
    phrase before a later one). Columns whose names say they hold dates play no role.
    A column's content is judged later by validation, which can then say "the spend
    column holds text" instead of silently choosing another column.
    """
    explicit = dict(explicit or {})
    available = list(columns)
    chosen: dict[str, str] = {role: col for role, col in explicit.items() if col}
    taken = set(chosen.values())
    table = column_names.table()
    candidates = [c for c in available if not table.ignored(c)]
    inferred = []
    for role in ROLES:
        if role.name in explicit:
            continue
        free = [c for c in candidates if c not in taken]
        best = column_names.best_column(column_names.role_names(role.name), free)
        if best is not None:
            chosen[role.name] = best
            taken.add(best)
            inferred.append(role.name)
    ordered = {role.name: chosen[role.name] for role in ROLES if role.name in chosen}
    unused = tuple(c for c in available if c not in taken)
    return RoleMap(columns=ordered, inferred=tuple(inferred), unused=unused)


def drivers_for(config: Config, roles: RoleMap) -> tuple[str, ...]:
    """The roles that drive clustering: the configured ones, or every behavioural role present."""
    if config.features.drivers is not None:
        return config.features.drivers
    return tuple(role for role in DEFAULT_DRIVERS if roles.has(role))
