"""The TOML config: one declaration per key, read and checked once into frozen dataclasses.

Each key is a dataclass field declared with `setting`: its type (the annotation), its
default, the check its raw value must pass (config_checks.py) and one line for people.
Everything else is derived from that one declaration: parsing and its error messages
(unknown keys list the declared ones), the README's config reference and the file
`reportgen init` writes (config_text.py), and the manifest's copy of the config as
used (records.to_plain). Every key has a default, so an empty file (or none) is a valid
config; later stages trust what is read here.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields, replace
from datetime import date
from email.utils import parseaddr
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from babel.numbers import get_decimal_symbol, get_group_symbol

from reportgen import config_checks as checks
from reportgen import names, numbers
from reportgen.config_checks import Check, fail
from reportgen.errors import ConfigError
from reportgen.formatting import parse_locale
from reportgen.fsutil import parse_small
from reportgen.roles import ROLE_BY_NAME

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DEFAULT_CONFIG_NAME = "reportgen.toml"

T = TypeVar("T")
S = TypeVar("S", bound="DataclassInstance")


@dataclass(frozen=True)
class Key:
    """What one config key is, besides its type and default: the check its raw value
    must pass and one line for people (the README's reference, the `init` file)."""

    check: Check
    doc: str
    toml: str | None = None
    """The key as written in TOML, where it is not the field's name ("from")."""
    example: Any = None
    """Shown commented out for a key whose default is "not set" (None)."""
    auto: bool = False
    """None is written "auto": the value is then decided from the data."""
    relative: bool = False
    """A path read relative to the config file (not the working folder)."""


def setting(default: T, check: Check, doc: str, **more: Any) -> T:
    """One config key: a dataclass field that carries its check and documentation."""
    result: T = field(default=default, metadata={"key": Key(check, doc, **more)})
    return result


def declared(cls: type) -> dict[str, tuple[Field[Any], Key]]:
    """A settings class's TOML keys, in order: key -> (its field, its declaration)."""
    found = {}
    for each in fields(cls):
        spec = each.metadata.get("key")
        if isinstance(spec, Key):
            found[spec.toml or each.name] = (each, spec)
    return found


@dataclass(frozen=True)
class ReportSettings:
    title: str = setting("Customer segments", checks.string, "the brief's title")
    company: str = setting("", checks.string, "on the cover and as the PDF's author")
    currency: str = setting("USD", checks.currency, "ISO code; $ € £ ¥ ₹ are shown as symbols")
    slug: str = setting(
        "customer-segments", checks.slug, 'folder name: lowercase letters, digits, "-"'
    )
    period: str | None = setting(
        None,
        checks.period,
        '"previous" (the month before today), "current", or YYYY-MM; default: current',
        example="previous",
    )
    locale: str = setting(
        "en_US",
        checks.locale,
        "how figures and dates are written, and the brief's language (see Languages)",
    )
    decimal_mark: str | None = setting(
        None,
        checks.choice(".", ","),
        'override the locale\'s decimal mark: "." or ","',
        example=",",
    )
    thousands_separator: str | None = setting(
        None,
        checks.choice(",", ".", " ", "\u202f", "'", ""),
        'override its grouping: ",", ".", " ", "\\u202f", "\'" or "" (none)',
        example=".",
    )
    primary_color: str = setting("#1f4e79", checks.color, "headings and rules")
    logo: Path | None = setting(
        None,
        checks.path,
        "PNG, JPEG, GIF or SVG, relative to this file; on the cover",
        example="logo.png",
        relative=True,
    )
    paper: str = setting("A4", checks.choice("A4", "Letter"), '"A4" or "Letter"')
    min_segment_size: int = setting(
        10,
        checks.integer(1),
        "fewer customers: never a segment of its own, nor a category value named (see The brief)",
    )
    templates: Path | None = setting(
        None,
        checks.path,
        "a folder whose templates override the defaults by name",
        example="my-templates",
        relative=True,
    )
    personas: Path | None = setting(
        None,
        checks.path,
        "a persona library; default: from the template folders",
        example="personas.yaml",
        relative=True,
    )


@dataclass(frozen=True)
class DataSettings:
    path: Path | str | None = setting(
        None,
        checks.location,
        "relative to this config file; --data overrides it; Spark: any URI (s3a://...)",
        example="exports/customers.csv",
        relative=True,
    )
    table: str | None = setting(
        None,
        checks.table_name,
        "Spark: a table of the session's catalog, instead of a path",
        example="catalog.schema.orders",
    )
    kind: str = setting(
        "customers",
        checks.choice("customers", "transactions"),
        'or "transactions": an order log (see Order logs)',
    )
    date_format: str | None = setting(
        None,
        checks.date_format,
        "order logs: how dates are written, if not ISO",
        example="%Y%m%d",
    )
    max_file_mb: float = setting(
        2048.0,
        checks.number(0.001, 1_000_000),
        "larger input is refused before it is read (order logs: all files together)",
    )
    max_columns: int = setting(
        1000, checks.integer(2, 1_000_000), "a wider table is refused before it is parsed"
    )
    decimal_mark: str = setting(
        "auto",
        checks.choice("auto", ".", ","),
        'how the input writes numbers: "auto", "." or "," (see Numbers as written)',
    )
    thousands_separator: str = setting(
        "auto", checks.thousands, '"auto", ",", ".", " ", "\'" or "none"'
    )

    @property
    def numbers(self) -> numbers.Settings:
        """The two settings as the number reader takes them (None: decided by the data)."""
        thousands = self.thousands_separator
        return numbers.Settings(
            decimal_mark=None if self.decimal_mark == "auto" else self.decimal_mark,
            thousands_separator={"auto": None, "none": ""}.get(thousands, thousands),
        )


ORDER_COLUMNS: Mapping[str, tuple[str, str]] = {
    "customer_id": ("CustomerID", "whose line it is"),
    "order_date": ("InvoiceDate", "when it was ordered"),
    "order_id": ("InvoiceNo", "without it, a customer's lines of one day are one order"),
    "amount": ("LineTotal", "the line total; or quantity and unit_price:"),
    "quantity": ("Quantity", "units on the line; negative for a return"),
    "unit_price": ("UnitPrice", "price of one unit"),
}
"""The order log's roles ([orders] keys naming its columns): an example and one line each."""
ORDER_ROLES = tuple(ORDER_COLUMNS)


@dataclass(frozen=True)
class OrderSettings:
    """How to read an order log ([data] kind = "transactions")."""

    columns: Mapping[str, str] = field(default_factory=dict)
    """Order-log role -> column name; roles not given are inferred from column names."""
    return_prefix: str | None = setting(
        None,
        checks.string,
        "order ids starting with it are returns or cancellations",
        example="C",
    )
    as_of: date | None = setting(
        None,
        checks.day,
        "the day recency and tenure count to; default: the day after the last order",
        example="2026-11-01",
    )
    min_date: date | None = setting(
        None,
        checks.day,
        "earlier lines are dropped; default: no fixed floor (placeholder dates are caught)",
        example="1995-01-01",
    )
    duplicates: str = setting(
        "drop", checks.choice("drop", "keep"), 'identical lines counted once; or "keep"'
    )
    invalid_amounts: str = setting(
        "drop",
        checks.choice("drop", "keep"),
        'zero or negative amounts that are not returns; or "keep"',
    )
    future_dates: str = setting(
        "drop", checks.choice("drop", "error"), 'lines dated after today; or "error"'
    )


@dataclass(frozen=True)
class ValidationSettings:
    duplicates: str = setting(
        "keep_last",
        checks.choice("keep_last", "keep_first", "error"),
        'repeated customer ids: "keep_last" | "keep_first" | "error"',
    )
    missing: str = setting(
        "impute",
        checks.choice("impute", "drop"),
        '"impute" (median, or most common value) | "drop" the row',
    )
    max_bad_share: float = setting(
        0.2, checks.share, "more unreadable/impossible values than this share: error"
    )
    max_missing_share: float = setting(
        0.5, checks.share, "more empty cells than this share in a column: error"
    )
    rating_scale: tuple[float, float] = setting(
        (1.0, 5.0), checks.rating_scale, "ratings outside it are impossible"
    )
    satisfaction_levels: tuple[str, ...] = setting(
        ("Unsatisfied", "Neutral", "Satisfied"), checks.levels, "lowest first"
    )
    tier_levels: tuple[str, ...] | None = setting(
        None,
        checks.levels,
        "membership levels, lowest first; default: a known ladder, else most common first",
        example=["Bronze", "Silver", "Gold", "Platinum"],
    )
    """Matched ignoring case and accents (categories.tier_order). Only the order shown
    depends on it: a value it does not list is kept, after those it lists."""


@dataclass(frozen=True)
class FeatureSettings:
    drivers: tuple[str, ...] | None = setting(
        None,
        checks.drivers,
        "roles that drive the segments; default: every driver role that has a column",
        example=["recency", "satisfaction", "spend", "frequency", "rating", "discount"],
    )
    scaling: str = setting(
        "standard",
        checks.choice("standard", "robust"),
        '"standard" (mean/sd) | "robust" (median/IQR)',
    )
    log_spend: bool = setting(False, checks.boolean, "always log(1 + spend) before scaling")
    log_skewed: bool = setting(
        True, checks.boolean, "log(1 + x) of every count or amount with skewness over 4"
    )
    """SKEW_LIMIT in features.py: a handful of extreme customers cannot stretch the scale."""
    one_hot: bool = setting(
        True,
        checks.boolean,
        "categorical drivers (e.g. tier): one yes/no feature per value, for the 10 most"
        " common values held by min_segment_size customers or more",
    )


@dataclass(frozen=True)
class SegmentationSettings:
    k: int | None = setting(
        None, checks.integer(2), "or a whole number ≥ 2 (--k overrides)", auto=True
    )
    k_min: int = setting(2, checks.integer(2, 50), "the fewest segments auto chooses")
    k_max: int = setting(8, checks.integer(2, 50), "the most segments auto chooses")
    seed: int = setting(42, checks.integer(0, 2**32 - 1), "the same seed, the same segments")
    sample_size: int = setting(
        20_000, checks.integer(100), "rows used to choose k; the final fit uses all rows"
    )
    silhouette_sample: int = setting(4_000, checks.integer(100), "rows for the silhouette score")
    stability_runs: int = setting(
        10,
        checks.integer(0, 100),
        "bootstrap refits for the stability score (0 skips it)",
    )
    mode: str = setting(
        "refit",
        checks.choice("refit", "frozen"),
        'or "frozen": score with the previous period\'s archived model',
    )
    min_share: float = setting(
        0.01,
        checks.number(0, 0.5),
        "a segment has at least this share of customers (see Segments)",
    )
    """A smaller fitted segment (or one under [report] min_segment_size) is dissolved
    into the nearest others and its customers reported."""


@dataclass(frozen=True)
class LevelSettings:
    """When a segment's figure is called high, low, recent, lapsed, lost or new (profile.py).

    "auto" (None) for a day threshold means: from the business's own rhythm where the
    data shows it (the median gap between a repeat customer's orders), else the default.
    """

    recent_days: float | None = setting(
        None,
        checks.number(1, 36_500),
        "or days; auto: the rhythm (one usual gap), at least 30",
        auto=True,
    )
    lapsed_days: float | None = setting(
        None, checks.number(1, 36_500), "auto: two usual gaps, at least 90", auto=True
    )
    lost_days: float | None = setting(
        None, checks.number(1, 36_500), "auto: four usual gaps, at least 365", auto=True
    )
    new_days: float = setting(90.0, checks.number(1, 36_500), "tenure up to this: new")
    established_days: float = setting(
        365.0, checks.number(1, 36_500), "tenure from this: long-standing"
    )
    ratio: float = setting(
        1.25,
        checks.number(1.01, 100),
        "money and counts: the median customer's ratio to the base's",
    )
    share_points: float = setting(
        0.10,
        checks.number(0.001, 1),
        "yes/no and shares: the difference, in points (0.10 = 10)",
    )
    rating_points: float | None = setting(
        None,
        checks.number(0.001, 1_000_000),
        "ratings: the difference; auto: a tenth of rating_scale",
        auto=True,
    )
    ordinal_steps: float = setting(
        0.5, checks.number(0.01, 100), "ordered labels: the difference of the mean position"
    )
    repeat_orders: float = setting(
        2.0,
        checks.number(1, 1_000_000),
        "frequent means a median customer with at least this many",
    )
    frequency_counts: str = setting(
        "auto",
        checks.choice("auto", "orders", "items"),
        '"orders" or "items"; auto: from the column name',
    )


@dataclass(frozen=True)
class ArchiveSettings:
    keep: int = setting(
        0, checks.integer(0), "periods kept per report by `archive prune`; 0 keeps all"
    )


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
    sender: str | None = setting(
        None,
        checks.address,
        "the From address",
        toml="from",
        example="Reports <reports@example.com>",
    )
    audiences: tuple[Audience, ...] = ()
    """The top-level to/cc/bcc (the audience "stakeholders") and [email.audiences.*]."""
    subject: str = setting(
        "{{ title }} — {{ period }}",
        checks.header_text,
        "a template: title, company, period, customers, k",
    )
    host: str = setting("localhost", checks.host, "the SMTP server")
    port: int | None = setting(
        None,
        checks.integer(1, 65535),
        "default: 587 starttls, 465 ssl, 25 none",
        example=587,
    )
    security: str = setting(
        "starttls",
        checks.choice("starttls", "ssl", "none"),
        '"ssl", or "none" (only for localhost / 127.0.0.1 / ::1)',
    )
    username_env: str | None = setting(
        None,
        checks.env_name,
        "names of environment variables, never the credentials",
        example="SMTP_USER",
    )
    password_env: str | None = setting(
        None,
        checks.env_name,
        "read when sending; the config never holds it",
        example="SMTP_PASSWORD",
    )
    timeout: float = setting(30.0, checks.number(1, 600), "seconds per connection")
    max_attachment_mb: float = setting(
        10.0, checks.number(0.001, 1000), "a larger PDF is refused before anything is sent"
    )
    attach_html: bool = setting(False, checks.boolean, "also attach report.html")
    ca_file: Path | None = setting(
        None,
        checks.path,
        "trust this CA instead of the system's (relative to this file)",
        example="company-ca.pem",
        relative=True,
    )
    retries: int = setting(3, checks.integer(0, 10), "for temporary failures")
    retry_wait: float = setting(
        2.0, checks.number(0, 600), "seconds before the first retry, doubled each time"
    )
    notify_on_failure: tuple[str, ...] = setting(
        (),
        checks.addresses,
        'e.g. ["ops@example.com"]: told when `run` fails (see Sending the brief)',
    )

    @property
    def server_port(self) -> int:
        return self.port or _DEFAULT_PORTS[self.security]


MEMORY_MB = 1500
"""The local engine's default memory for an order log (engines.duckdb_connection)."""


@dataclass(frozen=True)
class EngineSettings:
    name: str = setting(
        "local",
        checks.choice("local", "spark"),
        'where an order log is aggregated: "local" (DuckDB) or "spark" (see Spark)',
    )
    memory_mb: int = setting(
        MEMORY_MB,
        checks.integer(100, 10_000_000),
        "local: DuckDB's memory for an order log; beyond it, it spills to a temp folder",
    )


LOCAL_ASSIGNMENTS_MAX_ROWS = 1_000_000
"""With Spark, the most customers whose assignments also go into the snapshot as CSV."""


@dataclass(frozen=True)
class SparkSettings:
    """The Spark session of `[engine] name = "spark"` (spark.py)."""

    master: str = setting("local[*]", checks.string, "the cluster manager; unused with remote")
    remote: str | None = setting(
        None,
        checks.spark_remote,
        "Spark Connect: the address of a Connect server",
        example="sc://spark.example.com:15002",
    )
    app_name: str = setting("reportgen", checks.string, "the application's name in the cluster")
    assignments_path: Path | str | None = setting(
        None,
        checks.location,
        "where Spark writes every customer's segment as Parquet (see Spark)",
        example="s3a://bucket/reportgen/assignments",
        relative=True,
    )
    local_assignments_max_rows: int = setting(
        LOCAL_ASSIGNMENTS_MAX_ROWS,
        checks.integer(0),
        "up to this many customers, the snapshot also holds assignments.csv",
    )
    conf: Mapping[str, str] = field(default_factory=dict)
    """[spark.conf]: any Spark setting, as text; credentials are refused."""


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
    engine: EngineSettings = field(default_factory=EngineSettings)
    spark: SparkSettings = field(default_factory=SparkSettings)
    source: Path | None = None
    """The file this config was read from, if any."""


TABLES: Mapping[str, type | None] = {
    "report": ReportSettings,
    "data": DataSettings,
    "columns": None,
    "validation": ValidationSettings,
    "features": FeatureSettings,
    "segmentation": SegmentationSettings,
    "levels": LevelSettings,
    "archive": ArchiveSettings,
    "orders": OrderSettings,
    "email": EmailSettings,
    "engine": EngineSettings,
    "spark": SparkSettings,
}
"""Every table, in the order the reference lists them; [columns] is a map of roles."""
AUDIENCE_KEYS = ("to", "cc", "bcc")
_EXTRA_KEYS: Mapping[str, tuple[str, ...]] = {
    "orders": ORDER_ROLES,
    "email": (*AUDIENCE_KEYS, "audiences"),
    "spark": ("conf",),
}
"""Keys of a table that are not settings: the order log's columns, the audiences."""


def _table(name: str, raw: Any) -> dict[str, Any]:
    """The checked values of one settings table, by field name (extra keys left out)."""
    cls = TABLES[name]
    assert cls is not None
    keys, extra = declared(cls), _EXTRA_KEYS.get(name, ())
    values = {}
    for key, value in raw.items():
        where = f"[{name}] {key}"
        if key in extra:
            continue
        if key not in keys:
            allowed = ", ".join([*keys, *extra])
            raise fail(where, f"unknown key; allowed keys are {allowed}")
        each, spec = keys[key]
        values[each.name] = None if spec.auto and value == "auto" else spec.check(where, value)
    return values


def _relative(settings: S, folder: Path | None) -> S:
    """The settings with every path declared relative read from the config's folder."""
    if folder is None:
        return settings
    moved = {
        each.name: folder / value
        for each, spec in declared(type(settings)).values()
        if spec.relative
        and isinstance(value := getattr(settings, each.name), Path)
        and not value.is_absolute()
    }
    return replace(settings, **moved)


def _audience(where: str, name: str, raw: Mapping[str, Any]) -> Audience:
    lists = {
        key: checks.addresses(f"{where} {key}", raw[key]) for key in AUDIENCE_KEYS if key in raw
    }
    if not lists.get("to"):
        raise fail(f"{where} to", "at least one address is needed")
    return Audience(name=name, **lists)


def _audiences(raw: Mapping[str, Any]) -> tuple[Audience, ...]:
    """The top-level to/cc/bcc as the audience "stakeholders", then each named one."""
    found = [_audience("[email]", "stakeholders", raw)] if set(raw) & set(AUDIENCE_KEYS) else []
    named = raw.get("audiences", {})
    if "audiences" in raw and (not isinstance(named, dict) or not named):
        raise fail("[email.audiences]", "expected tables such as [email.audiences.board]")
    for name, table in named.items():
        where = f"[email.audiences.{name}]"
        if not names.is_slug(name) or not isinstance(table, dict):
            raise fail(where, "expected a lower-case name and a table of to, cc, bcc")
        unknown = set(table) - set(AUDIENCE_KEYS)
        if unknown:
            raise fail(f"{where} {sorted(unknown)[0]}", "unknown key; use to, cc, bcc")
        found.append(_audience(where, name, table))
    return tuple(found)


def _email(raw: Mapping[str, Any]) -> EmailSettings:
    settings = EmailSettings(audiences=_audiences(raw), **_table("email", raw))
    if settings.notify_on_failure and settings.sender is None:
        raise fail(
            "[email] notify_on_failure",
            "needs [email] from, the address the failure notice is sent from",
        )
    if settings.security == "none" and settings.host not in LOCAL_HOSTS:
        raise fail(
            "[email] security",
            f'"none" sends in clear text, allowed only to this machine ({", ".join(LOCAL_HOSTS)});'
            f' {settings.host!r} needs "starttls" or "ssl"',
        )
    return settings


def _orders(raw: Mapping[str, Any]) -> OrderSettings:
    columns = {
        key: checks.string(f"[orders] {key}", value)
        for key, value in raw.items()
        if key in ORDER_ROLES
    }
    return OrderSettings(columns=columns, **_table("orders", raw))


def _columns(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise fail("[columns]", 'must be a table of role = "column name"')
    for role, column in raw.items():
        if role not in ROLE_BY_NAME:
            allowed = ", ".join(ROLE_BY_NAME)
            raise fail(f"[columns] {role}", f"unknown role; roles are {allowed}")
        checks.string(f"[columns] {role}", column)
    duplicated = {c for c in raw.values() if c and list(raw.values()).count(c) > 1}
    if duplicated:
        raise fail("[columns]", f"column {sorted(duplicated)[0]!r} is mapped to more than one role")
    return dict(raw)


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
        raise fail("[report] thousands_separator", "must differ from decimal_mark")
    if report.decimal_mark is not None:
        raise fail(
            "[report] decimal_mark",
            f"{decimal!r} is the thousands separator of locale {report.locale}; set "
            'thousands_separator too (e.g. thousands_separator = "\'")',
        )
    raise fail(
        "[report] thousands_separator",
        f"{group!r} is the decimal mark of locale {report.locale}; set decimal_mark too "
        f'(e.g. decimal_mark = "{"," if group == "." else "."}")',
    )


def _check_across(config: Config) -> None:
    """What no single key can check: settings that must agree with each other."""
    data, levels, segmentation = config.data, config.levels, config.segmentation
    if data.decimal_mark != "auto" and data.decimal_mark == data.thousands_separator:
        raise fail("[data] thousands_separator", "must differ from decimal_mark")
    _check_marks(config.report)
    days = [levels.recent_days, levels.lapsed_days, levels.lost_days]
    given = [d for d in days if d is not None]
    if given != sorted(given) or len(set(given)) != len(given):
        raise fail(
            "[levels]",
            f"recent_days < lapsed_days < lost_days is needed, got {days} (None = auto)",
        )
    if levels.new_days >= levels.established_days:
        raise fail("[levels] new_days", "must be smaller than established_days")
    if data.table is not None and config.engine.name != "spark":
        raise fail("[data] table", 'a table is read by Spark: set [engine] name = "spark"')
    if data.table is not None and data.path is not None:
        raise fail("[data] table", "give a table or a path, not both")
    if segmentation.k_min > segmentation.k_max:
        raise fail(
            "[segmentation] k_min",
            f"k_min ({segmentation.k_min}) is larger than k_max ({segmentation.k_max})",
        )


def _spark(raw: Mapping[str, Any]) -> SparkSettings:
    conf = checks.spark_conf("[spark.conf]", raw["conf"]) if "conf" in raw else {}
    return SparkSettings(**_table("spark", raw), conf=MappingProxyType(conf))


_READERS = {"columns": _columns, "orders": _orders, "email": _email, "spark": _spark}


def parse(raw: Mapping[str, Any], source: Path | None = None) -> Config:
    """Validate a parsed TOML document into a Config; paths are read relative to the
    folder of `source`, the file it came from."""
    for name in raw:
        if name not in TABLES:
            raise fail(f"[{name}]", f"unknown table; tables are {', '.join(TABLES)}")
    folder = source.parent if source is not None else None
    tables: dict[str, Any] = {}
    for name, cls in TABLES.items():
        if name not in raw:
            continue
        if name != "columns" and not isinstance(raw[name], dict):
            raise fail(f"[{name}]", "must be a table")
        reader = _READERS.get(name)
        if reader is not None:
            tables[name] = reader(raw[name])
        elif cls is not None:
            tables[name] = cls(**_table(name, raw[name]))
    tables = {
        name: _relative(value, folder) if name != "columns" else value
        for name, value in tables.items()
    }
    config = Config(**tables, source=source)
    _check_across(config)
    return config


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
