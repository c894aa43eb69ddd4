"""The catalogue of roles a column can play.

Code speaks of roles (`spend`, `recency`, ...) and never of the user's column
names; the config maps one to the other. Each role says how its values are
parsed and whether it drives the clustering by default. Which column names suggest
it, so that a table with no `[columns]` still works, is data: column_names.toml.
"""

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
    ),
    Role(
        "satisfaction",
        Kind.ORDINAL,
        driver=True,
        required=False,
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
    ),
    Role(
        "items_per_order",
        Kind.NUMERIC,
        driver=False,
        required=False,
        non_negative=True,
    ),
    Role(
        "return_rate",
        Kind.NUMERIC,
        driver=True,
        required=False,
        non_negative=True,
        share=True,
    ),
    Role(
        "spend",
        Kind.NUMERIC,
        driver=True,
        required=True,
        non_negative=True,
    ),
    Role(
        "frequency",
        Kind.NUMERIC,
        driver=True,
        required=False,
        non_negative=True,
    ),
    Role(
        "rating",
        Kind.NUMERIC,
        driver=True,
        required=False,
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
