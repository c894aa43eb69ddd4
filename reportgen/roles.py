"""The catalogue of roles a column can play.

Code speaks of roles (`spend`, `recency`, ...) and never of the user's column
names; the config maps one to the other, and `infer_roles` guesses the rest from the
column names. Each role says how its values are parsed, whether it drives the
clustering by default and which way it is better. Which column names suggest it, so
that a table with no `[columns]` still works, is data: column_names.toml.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from reportgen import column_names


class Kind(StrEnum):
    """How a role's values are parsed and summarised."""

    ID = "id"
    NUMERIC = "numeric"
    BOOLEAN = "boolean"
    ORDINAL = "ordinal"
    CATEGORICAL = "categorical"


@dataclass(frozen=True)
class Role:
    name: str
    kind: Kind
    driver: bool
    """Drives the clustering by default (behaviour); otherwise it only describes segments."""
    required: bool
    non_negative: bool = False
    """A negative value is impossible (a data error, not a refund)."""
    share: bool = False
    """A share from 0 to 1 (of a customer's orders): compared in points, never logged."""
    better: int = 0
    """Which way the role is better for the business: 1 when more is better, -1 when less
    is (days since the last purchase, returns), 0 when neither: tenure (a new customer is
    not a worse one), discount use, age and the other descriptions of who customers are."""

    @property
    def hints(self) -> tuple[str, ...]:
        """The column names that suggest this role, strongest first, from the table
        reportgen/column_names.toml (exports and languages)."""
        return column_names.role_names(self.name).all


# Order matters for inference: a more specific role claims its column first, so
# "Days Since Last Purchase" becomes recency before frequency looks for "purchase",
# and "Satisfaction Level" becomes satisfaction before tier looks for "level".
ROLES: tuple[Role, ...] = (
    Role(
        "customer_id",
        Kind.ID,
        driver=False,
        required=True,
    ),
    Role(
        "tenure",
        Kind.NUMERIC,
        driver=True,
        required=False,
        non_negative=True,
    ),
    Role(
        "recency",
        Kind.NUMERIC,
        driver=True,
        required=False,
        non_negative=True,
        better=-1,
    ),
    Role(
        "satisfaction",
        Kind.ORDINAL,
        driver=True,
        required=False,
        better=1,
    ),
    Role(
        "tier",
        Kind.CATEGORICAL,
        driver=False,
        required=False,
    ),
    Role(
        "aov",
        Kind.NUMERIC,
        driver=False,
        required=False,
        non_negative=True,
        better=1,
    ),
    Role(
        "items_per_order",
        Kind.NUMERIC,
        driver=False,
        required=False,
        non_negative=True,
        better=1,
    ),
    Role(
        "return_rate",
        Kind.NUMERIC,
        driver=True,
        required=False,
        non_negative=True,
        share=True,
        better=-1,
    ),
    Role(
        "spend",
        Kind.NUMERIC,
        driver=True,
        required=True,
        non_negative=True,
        better=1,
    ),
    Role(
        "frequency",
        Kind.NUMERIC,
        driver=True,
        required=False,
        non_negative=True,
        better=1,
    ),
    Role(
        "rating",
        Kind.NUMERIC,
        driver=True,
        required=False,
        better=1,
    ),
    Role(
        "discount",
        Kind.BOOLEAN,
        driver=True,
        required=False,
    ),
    Role("age", Kind.NUMERIC, driver=False, required=False, non_negative=True),
    Role("gender", Kind.CATEGORICAL, driver=False, required=False),
    Role(
        "city",
        Kind.CATEGORICAL,
        driver=False,
        required=False,
    ),
)

ROLE_BY_NAME: dict[str, Role] = {role.name: role for role in ROLES}
DEFAULT_DRIVERS: tuple[str, ...] = tuple(role.name for role in ROLES if role.driver)

DISPLAY_ORDER: tuple[str, ...] = (
    "spend",
    "frequency",
    "recency",
    "tenure",
    "aov",
    "items_per_order",
    "return_rate",
    "rating",
    "satisfaction",
    "discount",
    "tier",
    "age",
    "gender",
    "city",
)
"""The order in which people read roles: value first, demographics last."""


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


def drivers_for(configured: tuple[str, ...] | None, roles: RoleMap) -> tuple[str, ...]:
    """The roles that drive clustering: the configured ones ([features] drivers), or
    every behavioural role present."""
    if configured is not None:
        return configured
    return tuple(role for role in DEFAULT_DRIVERS if roles.has(role))
