from pathlib import Path

import pytest

from reportgen.config import Config, infer_roles, load, parse, toml_value
from reportgen.errors import ConfigError
from tests.conftest import REAL_COLUMNS


def test_empty_config_takes_every_default():
    assert parse({}) == Config()
    assert Config().segmentation.k is None
    assert Config().segmentation.k_min == 2 and Config().segmentation.k_max == 8


def test_values_are_read_and_typed():
    cfg = parse(
        {
            "report": {"title": "Brief", "slug": "acme-brief"},
            "segmentation": {"k": 4, "seed": 7},
            "validation": {"rating_scale": [0, 10], "duplicates": "error"},
            "features": {"drivers": ["spend", "recency", "spend"], "scaling": "robust"},
        }
    )
    assert cfg.report.title == "Brief" and cfg.report.slug == "acme-brief"
    assert cfg.segmentation.k == 4 and cfg.segmentation.seed == 7
    assert cfg.validation.rating_scale == (0.0, 10.0)
    assert cfg.features.drivers == ("spend", "recency")  # repeated role kept once
    assert parse({"segmentation": {"k": "auto"}}).segmentation.k is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"segmentation": {"k": 1}}, "config [segmentation] k: 1 is out of range"),
        ({"segmentation": {"k": "five"}}, "config [segmentation] k: expected a whole number"),
        ({"segmentation": {"k_min": 6, "k_max": 3}}, "k_min (6) is larger than k_max (3)"),
        ({"segmentation": {"kk": 3}}, "config [segmentation] kk: unknown key; allowed keys are k,"),
        (
            {"validation": {"duplicates": "first"}},
            "config [validation] duplicates: 'first' is not allowed; use one of \"keep_last\"",
        ),
        ({"report": {"slug": "../etc"}}, "config [report] slug: '../etc' is not a valid slug"),
        ({"report": {"title": 3}}, "config [report] title: expected a text value in quotes, got 3"),
        (
            {"columns": {"money": "Total"}},
            "config [columns] money: unknown role; roles are customer_id",
        ),
        (
            {"columns": {"spend": "A", "frequency": "A"}},
            "column 'A' is mapped to more than one role",
        ),
        ({"features": {"drivers": ["customer_id"]}}, "'customer_id' is not a role that can drive"),
        ({"validation": {"max_bad_share": 1.5}}, "expected a number from 0 to 1, got 1.5"),
        ({"validation": {"rating_scale": [5, 1]}}, "expected [lowest, highest] such as [1, 5]"),
        ({"colums": {}}, "config [colums]: unknown table; tables are report, data,"),
        ({"data": {"kind": "transactions"}}, '"transactions" (order logs) is not supported'),
    ],
)
def test_errors_name_the_key_and_the_allowed_values(raw, message):
    with pytest.raises(ConfigError) as caught:
        parse(raw)
    assert message in str(caught.value)


def test_data_path_is_relative_to_the_config_file(tmp_path: Path):
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "reportgen.toml"
    path.write_text('[data]\npath = "../exports/customers.csv"\n')
    assert load(path).data.path == tmp_path / "conf" / ".." / "exports" / "customers.csv"


def test_load_names_the_file_in_errors(tmp_path: Path):
    path = tmp_path / "r.toml"
    path.write_text("[segmentation]\nk = 0\n")
    with pytest.raises(ConfigError, match=r"r\.toml: config \[segmentation\] k: 0 is out of range"):
        load(path)
    path.write_text("[segmentation\n")
    with pytest.raises(ConfigError, match=r"r\.toml is not valid TOML"):
        load(path)
    with pytest.raises(ConfigError, match=r"missing\.toml does not exist"):
        load(tmp_path / "missing.toml")


def test_no_config_file_means_defaults(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load(None) == Config()
    (tmp_path / "reportgen.toml").write_text('[report]\ntitle = "Found"\n')
    assert load(None).report.title == "Found"


def test_roles_inferred_from_the_real_column_names():
    roles = infer_roles(REAL_COLUMNS)
    assert dict(roles.columns) == {
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
    assert roles.unused == ()
    assert set(roles.inferred) == set(roles.columns)


def test_inference_prefers_exact_names_and_leaves_odd_columns_unused():
    roles = infer_roles(["cust_id", "order_count", "revenue_usd", "Notes", "Signup Channel"])
    assert dict(roles.columns) == {
        "customer_id": "cust_id",
        "spend": "revenue_usd",
        "frequency": "order_count",
    }
    assert roles.unused == ("Notes", "Signup Channel")


def test_explicit_columns_win_and_an_empty_name_switches_a_role_off():
    roles = infer_roles(REAL_COLUMNS, {"spend": "Items Purchased", "rating": ""})
    assert roles.column("spend") == "Items Purchased"
    assert not roles.has("rating")
    assert roles.unused == ("Total Spend", "Average Rating")  # nothing else claims them
    assert "spend" not in roles.inferred


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (3, "3"),
        (0.2, "0.2"),
        ('a "b"', '"a \\"b\\""'),
        (("x", 1), '["x", 1]'),
    ],
)
def test_toml_values(value, text):
    assert toml_value(value) == text
