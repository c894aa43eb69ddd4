"""The catalogue of roles a column can play.

Code speaks of roles (`spend`, `recency`, ...) and never of the user's column
names; the config maps one to the other. Each role says how its values are
parsed, whether it drives the clustering by default, and which words in a
column name suggest it, so that a table with no `[columns]` still works.
"""

from dataclasses import dataclass
from enum import StrEnum


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
    hints: tuple[str, ...]
    """Phrases whose words, all present in a column name, suggest this role."""
    non_negative: bool = False
    """A negative value is impossible (a data error, not a refund)."""
    share: bool = False
    """A share from 0 to 1 (of a customer's orders): compared in points, never logged."""


# Order matters for inference: a more specific role claims its column first, so
# "Days Since Last Purchase" becomes recency before frequency looks for "purchase",
# and "Satisfaction Level" becomes satisfaction before tier looks for "level".
ROLES: tuple[Role, ...] = (
    Role(
        "customer_id",
        Kind.ID,
        driver=False,
        required=True,
        hints=(
            "customer id",
            "client id",
            "cust id",
            "user id",
            "member id",
            "account id",
            "customer",
            "client",
            "account",
            "id",
        ),
    ),
    Role(
        "tenure",
        Kind.NUMERIC,
        driver=True,
        required=False,
        non_negative=True,
        hints=("days since first", "tenure", "customer for days", "account age days"),
    ),
    Role(
        "recency",
        Kind.NUMERIC,
        driver=True,
        required=False,
        non_negative=True,
        hints=("days since", "recency", "since last", "last purchase days", "days inactive"),
    ),
    Role(
        "satisfaction",
        Kind.ORDINAL,
        driver=True,
        required=False,
        hints=("satisfaction", "csat", "nps"),
    ),
    Role(
        "tier",
        Kind.CATEGORICAL,
        driver=False,
        required=False,
        hints=("membership", "tier", "loyalty", "segment", "plan"),
    ),
    Role(
        "aov",
        Kind.NUMERIC,
        driver=False,
        required=False,
        non_negative=True,
        hints=("average order value", "avg order value", "aov", "basket value"),
    ),
    Role(
        "items_per_order",
        Kind.NUMERIC,
        driver=False,
        required=False,
        non_negative=True,
        hints=("items per order", "units per order", "basket size"),
    ),
    Role(
        "return_rate",
        Kind.NUMERIC,
        driver=True,
        required=False,
        non_negative=True,
        share=True,
        hints=("return rate", "returns share", "refund rate", "cancellation rate"),
    ),
    Role(
        "spend",
        Kind.NUMERIC,
        driver=True,
        required=True,
        non_negative=True,
        hints=(
            "spend",
            "spent",
            "revenue",
            "sales",
            "monetary",
            "amount",
            "lifetime value",
            "clv",
            "ltv",
        ),
    ),
    Role(
        "frequency",
        Kind.NUMERIC,
        driver=True,
        required=False,
        non_negative=True,
        hints=("items", "orders", "purchases", "frequency", "transactions", "visits", "quantity"),
    ),
    Role(
        "rating",
        Kind.NUMERIC,
        driver=True,
        required=False,
        hints=("rating", "stars", "review score", "score"),
    ),
    Role(
        "discount",
        Kind.BOOLEAN,
        driver=True,
        required=False,
        hints=("discount", "coupon", "promo", "voucher"),
    ),
    Role("age", Kind.NUMERIC, driver=False, required=False, non_negative=True, hints=("age",)),
    Role("gender", Kind.CATEGORICAL, driver=False, required=False, hints=("gender", "sex")),
    Role(
        "city",
        Kind.CATEGORICAL,
        driver=False,
        required=False,
        hints=("city", "region", "country", "state", "location", "town"),
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
