"""Role inference on the column names of common exports and in six languages.

Each platform's header set is written from where the platform documents it (cited
above it); the mapping asserted is every role that has a column there. Columns that
hold dates ("Last active", "Created (UTC)") play no role: recency and tenure are
numbers of days.
"""

import csv

import pytest

from reportgen import column_names
from reportgen.column_names import Names, words
from reportgen.roles import ROLES, infer_roles
from tests.helpers import REAL_COLUMNS, REPO

# Shopify admin > Customers > Export, "Customer CSV file format" (help.shopify.com/en/
# manual/customers/import-export-customers; the template's columns, with the export-only
# Customer ID, Total Spent and Total Orders).
SHOPIFY = [
    "Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
    "Default Address Company", "Default Address Address1", "Default Address Address2",
    "Default Address City", "Default Address Province Code",
    "Default Address Country Code", "Default Address Zip", "Default Address Phone",
    "Phone", "Accepts SMS Marketing", "Total Spent", "Total Orders", "Note", "Tax Exempt",
    "Tags",
]  # fmt: skip
# WooCommerce > Analytics > Customers, "Download" (woocommerce.com/document/
# woocommerce-analytics/customers-report; the report table's columns). It has no id
# column: the e-mail address identifies a customer, guests included.
WOOCOMMERCE = [
    "Name", "Username", "Last active", "Date registered", "Email", "Orders",
    "Total spend", "AOV", "Country / Region", "City", "Region", "Postal code",
]  # fmt: skip
# Magento / Adobe Commerce > Reports > Customers > Order Total, "Export"
# (experienceleague.adobe.com/docs/commerce-admin/start/reporting/customer-reports).
MAGENTO_ORDER_TOTAL = ["Interval", "Customer", "Orders", "Average", "Total"]
# Magento / Adobe Commerce > Customers > All Customers grid, "Export" (same docs,
# customers/customer-account-manage): no money columns, so spend stays unmapped.
MAGENTO_GRID = [
    "ID", "Name", "Email", "Group", "Phone", "ZIP", "Country", "State/Province",
    "Customer Since", "Web Site", "Confirmed email", "Account Created in",
    "Billing Address", "Shipping Address", "Date of Birth", "Tax VAT Number", "Gender",
    "Street Address", "City", "Fax", "VAT Number", "Company", "Billing Firstname",
    "Billing Lastname", "Account Lock",
]  # fmt: skip
# Stripe Dashboard > Customers > Export (unified_customers.csv), default columns.
STRIPE = [
    "id", "Description", "Email", "Name", "Created (UTC)", "Delinquent", "Plan",
    "Status", "Currency", "Discount", "Total Spend", "Payment Count", "Refunded Volume",
    "Dispute Losses",
]  # fmt: skip
# HubSpot > Contacts > Export: default contact properties and the revenue properties
# (knowledge.hubspot.com, "HubSpot's default contact properties"; "How are the
# properties used for revenue reporting calculated?").
HUBSPOT = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Contact owner",
    "Lead Status", "Create Date", "Last Activity Date", "City", "Country/Region",
    "Lifecycle Stage", "Total Revenue", "Recent Deal Amount", "Recent Deal Close Date",
    "First Deal Created Date", "Number of Associated Deals",
]  # fmt: skip
# Klaviyo > Lists & segments > Export: profile properties and the predictive analytics
# (help.klaviyo.com "Best Practices for Using CLV Data"; developers.klaviyo.com,
# PredictiveAnalytics: historic_clv, predicted_clv, total_clv, historic_number_of_orders,
# predicted_number_of_orders, average_days_between_orders, average_order_value,
# churn_probability, expected_date_of_next_order).
KLAVIYO = [
    "Email", "First Name", "Last Name", "Phone Number", "City", "State / Region",
    "Country", "Zip Code", "Profile Created On", "Historic CLV", "Predicted CLV",
    "Total CLV", "Historic Number Of Orders", "Predicted Number Of Orders",
    "Average Days Between Orders", "Average Order Value", "Churn Risk Prediction",
    "Expected Date Of Next Order", "Predicted Gender",
]  # fmt: skip
# Salesforce B2C Commerce: a customer export with the customer active data attributes
# (developer.salesforce.com, dw.customer.CustomerActiveData: avgOrderValue,
# discountValueWithCoupon, giftOrders, lastOrderDate, orders, orderValue, returns,
# returnValue, visitsMonth ...), keyed by customerNo.
SALESFORCE = [
    "customerNo", "email", "avgOrderValue", "discountValueWithCoupon",
    "discountValueWithoutCoupon", "giftOrders", "giftUnits", "lastOrderDate", "orders",
    "orderValue", "orderValueMonth", "productsOrdered", "returns", "returnValue",
    "visitsMonth", "visitsYear",
]  # fmt: skip

PLATFORMS = {
    "shopify": (
        SHOPIFY,
        {
            "customer_id": "Customer ID",
            "spend": "Total Spent",
            "frequency": "Total Orders",
            "city": "Default Address City",
        },
    ),
    "woocommerce": (
        WOOCOMMERCE,
        {
            "customer_id": "Email",
            "aov": "AOV",
            "spend": "Total spend",
            "frequency": "Orders",
            "city": "City",
        },
    ),
    "magento order total": (
        MAGENTO_ORDER_TOTAL,
        {"customer_id": "Customer", "aov": "Average", "spend": "Total", "frequency": "Orders"},
    ),
    "magento customer grid": (
        MAGENTO_GRID,
        {"customer_id": "ID", "tier": "Group", "gender": "Gender", "city": "City"},
    ),
    "stripe": (
        STRIPE,
        {
            "customer_id": "id",
            "tier": "Plan",
            "spend": "Total Spend",
            "frequency": "Payment Count",
            "discount": "Discount",
        },
    ),
    "hubspot": (
        HUBSPOT,
        {
            "customer_id": "Record ID",
            "spend": "Total Revenue",
            "frequency": "Number of Associated Deals",
            "city": "City",
        },
    ),
    "klaviyo": (
        KLAVIYO,
        {
            "customer_id": "Email",
            "aov": "Average Order Value",
            "spend": "Historic CLV",
            "frequency": "Historic Number Of Orders",
            "city": "City",
        },
    ),
    "salesforce": (
        SALESFORCE,
        {
            "customer_id": "customerNo",
            "aov": "avgOrderValue",
            "spend": "orderValue",
            "frequency": "orders",
        },
    ),
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_platform_export_maps_every_role_that_has_a_column(platform):
    header, expected = PLATFORMS[platform]
    roles = infer_roles(header)
    assert dict(roles.columns) == expected
    assert set(roles.unused) == set(header) - set(expected.values())


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # The German file of issue #14, semicolon-delimited.
        (
            ["Kundennummer", "Umsatz", "Bestellungen", "Tage seit letztem Kauf"],
            {
                "customer_id": "Kundennummer",
                "recency": "Tage seit letztem Kauf",
                "spend": "Umsatz",
                "frequency": "Bestellungen",
            },
        ),
        (
            [
                "Kunden-Nr.",
                "Gesamtumsatz",
                "Bestellanzahl",
                "Tage seit erstem Kauf",
                "Ø Bestellwert",
                "Kundenzufriedenheit",
                "Geschlecht",
                "Alter",
                "Stadt",
                "Rabatt genutzt",
                "Umsatzsteuer-ID",
                "Kaufdatum",
            ],
            {
                "customer_id": "Kunden-Nr.",
                "tenure": "Tage seit erstem Kauf",
                "satisfaction": "Kundenzufriedenheit",
                "aov": "Ø Bestellwert",
                "spend": "Gesamtumsatz",
                "frequency": "Bestellanzahl",
                "discount": "Rabatt genutzt",
                "age": "Alter",
                "gender": "Geschlecht",
                "city": "Stadt",
            },
        ),
        (
            [
                "N° client",
                "Chiffre d'affaires",
                "Nombre de commandes",
                "Jours depuis le dernier achat",
                "Panier moyen",
                "Âge",
                "Sexe",
                "Ville",
                "Note",
                "Date de création",
            ],
            {
                "customer_id": "N° client",
                "recency": "Jours depuis le dernier achat",
                "aov": "Panier moyen",
                "spend": "Chiffre d'affaires",
                "frequency": "Nombre de commandes",
                "age": "Âge",
                "gender": "Sexe",
                "city": "Ville",
            },
        ),
        (
            [
                "ID Cliente",
                "Ventas totales",
                "Número de pedidos",
                "Días desde la última compra",
                "Ticket medio",
                "Edad",
                "Género",
                "Ciudad",
                "Valoración",
                "Fecha de alta",
            ],
            {
                "customer_id": "ID Cliente",
                "recency": "Días desde la última compra",
                "aov": "Ticket medio",
                "spend": "Ventas totales",
                "frequency": "Número de pedidos",
                "rating": "Valoración",
                "age": "Edad",
                "gender": "Género",
                "city": "Ciudad",
            },
        ),
        (
            [
                "Codice cliente",
                "Fatturato",
                "Numero ordini",
                "Giorni dall'ultimo acquisto",
                "Valore medio ordine",
                "Età",
                "Sesso",
                "Città",
                "Sconto",
                "Data iscrizione",
            ],
            {
                "customer_id": "Codice cliente",
                "recency": "Giorni dall'ultimo acquisto",
                "aov": "Valore medio ordine",
                "spend": "Fatturato",
                "frequency": "Numero ordini",
                "discount": "Sconto",
                "age": "Età",
                "gender": "Sesso",
                "city": "Città",
            },
        ),
        (
            [
                "Klantnummer",
                "Omzet",
                "Aantal bestellingen",
                "Dagen sinds laatste aankoop",
                "Gemiddelde orderwaarde",
                "Leeftijd",
                "Geslacht",
                "Woonplaats",
                "Omzettingspercentage",
            ],
            {
                "customer_id": "Klantnummer",
                "recency": "Dagen sinds laatste aankoop",
                "aov": "Gemiddelde orderwaarde",
                "spend": "Omzet",
                "frequency": "Aantal bestellingen",
                "age": "Leeftijd",
                "gender": "Geslacht",
                "city": "Woonplaats",
            },
        ),
        (
            [
                "Código cliente",
                "Receita",
                "Pedidos",
                "Dias desde a última compra",
                "Ticket médio",
                "Idade",
                "Sexo",
                "Cidade",
                "Avaliação",
                "Data de cadastro",
            ],
            {
                "customer_id": "Código cliente",
                "recency": "Dias desde a última compra",
                "aov": "Ticket médio",
                "spend": "Receita",
                "frequency": "Pedidos",
                "rating": "Avaliação",
                "age": "Idade",
                "gender": "Sexo",
                "city": "Cidade",
            },
        ),
    ],
    ids=["de-issue-14", "de", "fr", "es", "it", "nl", "pt"],
)
def test_each_language_maps_every_role_that_has_a_column(header, expected):
    assert dict(infer_roles(header).columns) == expected


def test_the_bundled_sample_and_the_real_data_set_map_as_before():
    expected = {
        "customer_id": "Customer ID",
        "recency": "Days Since Last Purchase",
        "satisfaction": "Satisfaction Level",
        "tier": "Membership Type",
        "spend": "Total Spend",
        "frequency": "Items Purchased",
        "rating": "Average Rating",
        "discount": "Discount Applied",
        "age": "Age",
        "gender": "Gender",
        "city": "City",
    }
    with (REPO / "data" / "sample_customers.csv").open(encoding="utf-8") as sample:
        assert dict(infer_roles(next(csv.reader(sample))).columns) == expected
    roles = infer_roles(REAL_COLUMNS)
    assert dict(roles.columns) == expected
    assert roles.unused == () and set(roles.inferred) == set(roles.columns)


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("CustomerID", ("customer", "id")),
        ("avgOrderValue", ("avg", "order", "value")),
        ("Días desde la última compra", ("dia", "desde", "la", "ultima", "compra")),
        ("Warenkorbgröße", ("warenkorbgrosse",)),
        ("chiffre d'affaires", ("chiffre", "d", "affaire")),
        ("Status", ("status",)),
        ("Address", ("address",)),
        ("País", ("pais",)),
        ("Total_Orders", ("total", "order")),
    ],
)
def test_names_are_read_as_folded_words(name, read):
    assert words(name) == read


def test_date_columns_play_no_role_even_when_a_phrase_fits():
    header = ["Customer ID", "Total Spent", "Last Order Date", "Last order", "Bestelldatum"]
    roles = infer_roles(header)
    assert dict(roles.columns) == {"customer_id": "Customer ID", "spend": "Total Spent"}
    assert roles.unused == ("Last Order Date", "Last order", "Bestelldatum")


def test_every_role_has_names_and_every_table_entry_is_a_role():
    table = column_names.table()
    assert set(table.roles) == {role.name for role in ROLES}
    assert all(table.roles[role.name].phrases for role in ROLES)


def _claims():
    """(role, phrase) for every phrase and exact name of every role."""
    table = column_names.table()
    for role in ROLES:
        names = table.roles[role.name]
        for phrase in (*names.phrases, *names.exact):
            yield role.name, phrase


@pytest.mark.parametrize(("role", "phrase"), list(_claims()))
def test_a_column_named_exactly_as_a_phrase_plays_its_role(role, phrase):
    """Alone beside an id column, a column named exactly as a phrase maps to its role:
    no earlier role claims it, no [ignore] name hides it, no `unless` of its own role
    refuses it."""
    id_column = "Kundennummer" if role != "customer_id" else "Notes"
    roles = infer_roles([id_column, phrase])
    if role == "customer_id":
        assert roles.columns.get("customer_id") == phrase
    else:
        assert roles.columns.get(role) == phrase, dict(roles.columns)


def test_a_stem_finds_a_compound_and_unless_stems_keep_a_tax_out():
    spend = column_names.role_names("spend")
    assert spend.score("Nettoumsatz")[0] == column_names.STEM
    assert spend.score("Umsatzsteuer")[0] == 0
    assert spend.score("Predicted CLV")[0] == 0


def test_a_fallback_is_taken_only_when_nothing_else_fits():
    assert infer_roles(["Email", "Kundennummer"]).columns["customer_id"] == "Kundennummer"
    assert infer_roles(["Email", "Umsatz"]).columns["customer_id"] == "Email"


def test_the_table_is_checked_when_read():
    with pytest.raises(ValueError, match=r"\[roles.spend\] stems: 'ums' must be one word"):
        column_names.read('[roles.spend]\nphrases = ["spend"]\nstems = ["ums"]\n')
    with pytest.raises(ValueError, match=r"\[roles.spend\] hints: unknown key"):
        column_names.read('[roles.spend]\nhints = ["spend"]\n')
    with pytest.raises(ValueError, match=r"unknown table \[columns\]"):
        column_names.read('[columns]\nspend = "x"\n')
    # A name with no word would, as an exclusion, keep every column from its role.
    with pytest.raises(ValueError, match=r"\[roles.discount\] unless: '€' has no letter"):
        column_names.read('[roles.discount]\nphrases = ["rabatt"]\nunless = ["€"]\n')
    assert column_names.read("").roles == {}


def test_names_score_exact_before_partial_and_earlier_before_later():
    names = Names(phrases=("total spend", "spend"), exact=("total",))
    assert names.score("Total Spend") > names.score("Spend")  # both exact; earlier wins
    assert names.score("Spend") > names.score("Monthly spend")  # exact beats partial
    assert names.score("Total")[0] == column_names.EXACT
    assert names.score("Total orders") == (0, 0)  # an exact-only name never matches inside


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (  # a discount written in euros is an amount, not a yes/no
            ["Kundennummer", "Umsatz", "Rabatt in EUR", "Rabatt genutzt"],
            {"customer_id": "Kundennummer", "spend": "Umsatz", "discount": "Rabatt genutzt"},
        ),
        (
            ["Kundennummer", "Umsatz", "Kunde seit (Tage)", "Anrede", "Kundenstatus"],
            {
                "customer_id": "Kundennummer",
                "tenure": "Kunde seit (Tage)",
                "tier": "Kundenstatus",
                "spend": "Umsatz",
                "gender": "Anrede",
            },
        ),
        (
            ["id", "omzet", "Loyaliteitsniveau", "Civilité"],
            {
                "customer_id": "id",
                "tier": "Loyaliteitsniveau",
                "spend": "omzet",
                "gender": "Civilité",
            },
        ),
        (  # a job title is no gender
            ["Customer ID", "Total Spent", "Title"],
            {"customer_id": "Customer ID", "spend": "Total Spent"},
        ),
    ],
)
def test_names_found_by_the_review_map_as_a_reader_means_them(header, expected):
    assert dict(infer_roles(header).columns) == expected


@pytest.mark.parametrize(
    ("column", "items"),
    [
        ("Items Purchased", True),
        ("Gekaufte Artikel", True),
        ("Artikelanzahl", True),
        ("Stückzahl", True),
        ("Quantité achetée", True),
        ("Unidades compradas", True),
        ("Articoli acquistati", True),
        ("Aantal stuks", True),
        ("Total Orders", False),
        ("Bestellungen", False),
        ("Nombre de commandes", False),
        ("Número de pedidos", False),
        ("Community visits", False),  # "unit" inside a word is no unit
    ],
)
def test_what_frequency_counts_is_read_from_its_name_in_every_language(column, items):
    assert column_names.table().counts_items(column) is items
