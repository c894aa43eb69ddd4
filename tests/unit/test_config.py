import json
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reportgen.config import Config, load, parse
from reportgen.config_text import toml_value
from reportgen.errors import ConfigError
from reportgen.records import to_plain
from reportgen.roles import infer_roles
from tests.helpers import REAL_COLUMNS


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
        ({"orders": {"as_of": "30/11/2026"}}, "expected a day such as 2026-11-30"),
        ({"orders": {"duplicates": "merge"}}, "[orders] duplicates"),
        ({"orders": {"when": "order date"}}, "[orders] when: unknown key"),
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


def test_email_audiences_and_defaults():
    cfg = parse(
        {
            "email": {
                "from": "Reports <reports@example.com>",
                "to": "ann@example.com",
                "cc": ["Bob Stone <Bob@Example.com>"],
                "security": "ssl",
                "audiences": {"board": {"to": ["cat@example.com"], "bcc": "dan@example.com"}},
            }
        }
    )
    email = cfg.email
    assert email.sender == "Reports <reports@example.com>" and email.server_port == 465
    assert [a.name for a in email.audiences] == ["stakeholders", "board"]
    assert email.audiences[0].recipients == ("ann@example.com", "Bob@example.com")
    assert email.audiences[1].recipients == ("cat@example.com", "dan@example.com")
    assert parse({"email": {"to": "a@b.org"}}).email.server_port == 587  # starttls
    quoted = parse({"email": {"to": '"Lee, Ann" <ann@example.com>'}}).email
    assert quoted.audiences[0].recipients == ("ann@example.com",)  # a comma inside quotes


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ({"to": ["ann@example.com\r\nBcc: eve@evil.test"]}, "[email] to[0]: must not contain"),
        ({"to": ["=?utf-8?q?Ann=0ABcc:_eve@evil.test?= <ann@example.com>"]}, "encoded text"),
        ({"subject": "Brief%0d%0aBcc: eve@evil.test"}, "[email] subject: must not contain"),
        ({"from": "Reports\n <r@example.com>"}, "[email] from: must not contain"),
        ({"to": ["not an address"]}, 'expected an address such as "Ann Lee'),
        # Two in one entry: parseaddr kept the first and dropped the other without a word.
        ({"to": ["ann@example.com, bob@example.com"]}, "to[0]: holds more than one address"),
        ({"cc": "Eve <a@x.org>, b@y.org"}, "[email] cc[0]: holds more than one address"),
        ({"bcc": ["a@x.org>, <b@y.org"]}, "bcc[0]: holds more than one address"),
        ({"security": "none", "host": "smtp.example.com"}, "allowed only to this machine"),
        ({"password_env": "hunter2 is my password"}, "the value is not shown"),
        ({"audiences": {"Board": {"to": "a@b.org"}}}, "[email.audiences.Board]"),
        ({"audiences": {"board": {"cc": "a@b.org"}}}, "[email.audiences.board] to"),
        ({"port": 0}, "[email] port"),
        ({"retries": 11}, "[email] retries"),
        ({"smtp": "x"}, "[email] smtp: unknown key"),
    ],
)
def test_email_settings_that_could_forge_headers_or_leak_are_refused(email, message):
    with pytest.raises(ConfigError) as caught:
        parse({"email": email})
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_notify_on_failure_takes_addresses_like_to_and_needs_a_sender():
    sender = {"from": "Reports <reports@example.com>"}
    assert parse({}).email.notify_on_failure == ()
    given = parse({"email": {**sender, "notify_on_failure": ["ops@example.com", "Ann <a@x.org>"]}})
    assert given.email.notify_on_failure == ("ops@example.com", "Ann <a@x.org>")
    one = parse({"email": {**sender, "notify_on_failure": "ops@example.com"}})
    assert one.email.notify_on_failure == ("ops@example.com",)
    for value, message in (
        (["not an address"], 'notify_on_failure[0]: expected an address such as "Ann Lee'),
        (["ops@example.com\r\nBcc: eve@evil.test"], "notify_on_failure[0]: must not contain"),
        (["a@x.org, b@y.org"], "notify_on_failure[0]: holds more than one address"),
        ({"to": "ops@example.com"}, "notify_on_failure: expected an address or a list"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse({"email": {**sender, "notify_on_failure": value}})
        assert str(caught.value).startswith("config [email] ") and message in str(caught.value)
    with pytest.raises(ConfigError, match=r"\[email\] notify_on_failure: needs \[email\] from"):
        parse({"email": {"notify_on_failure": ["ops@example.com"]}})


def test_levels_take_days_or_auto_and_keep_their_order():
    from reportgen.config import LevelSettings

    levels = parse({"levels": {"recent_days": 45, "lost_days": "auto", "ratio": 1.5}}).levels
    assert levels == LevelSettings(recent_days=45.0, ratio=1.5)
    assert parse({}).levels == LevelSettings()
    with pytest.raises(ConfigError, match=r"recent_days < lapsed_days < lost_days"):
        parse({"levels": {"recent_days": 100, "lapsed_days": 60}})
    with pytest.raises(ConfigError, match=r"\[levels\] new_days: must be smaller"):
        parse({"levels": {"new_days": 400}})
    with pytest.raises(ConfigError, match=r"\[levels\] ratio: expected a number from 1.01"):
        parse({"levels": {"ratio": 1}})
    with pytest.raises(ConfigError, match=r"\[levels\] colour: unknown key"):
        parse({"levels": {"colour": "red"}})
    with pytest.raises(ConfigError, match=r"\[segmentation\] min_share: expected a number"):
        parse({"segmentation": {"min_share": 0.9}})


@given(st.text())
def test_toml_text_reads_back_exactly_and_shows_nothing_an_editor_would_obey(text):
    written = toml_value(text)
    assert tomllib.loads(f"k = {written}")["k"] == text
    assert not re.search(
        "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]", written
    )


# --- [report] locale and the number-format overrides ----------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("de_DE", "de_DE"),
        ("de-DE", "de_DE"),
        ("de", "de"),
        ("fr_CH", "fr_CH"),
        ("de_de", "de_DE"),
        ("sr_Latn_RS", "sr_Latn_RS"),
        ("es_419", "es_419"),
    ],
)
def test_locale_is_read_as_babel_names_it(given, kept):
    report = parse({"report": {"locale": given}}).report
    assert report.locale == kept
    assert report.decimal_mark is None and report.thousands_separator is None


def test_locale_defaults_to_en_us_and_the_manifest_keeps_it_as_json():
    assert Config().report.locale == "en_US"
    plain = to_plain(parse({"report": {"locale": "de-DE", "decimal_mark": ","}}))
    report = json.loads(json.dumps(plain))["report"]
    assert report["locale"] == "de_DE" and report["decimal_mark"] == ","
    assert report["thousands_separator"] is None


@pytest.mark.parametrize("given", ["xx_YY", "german", "de_DE!", ""])
def test_an_unknown_locale_is_one_line_naming_key_value_and_an_example(given):
    with pytest.raises(ConfigError) as caught:
        parse({"report": {"locale": given}})
    message = str(caught.value)
    assert message == (
        f"config [report] locale: {given!r} is not a known locale; use a language and "
        'region such as "de_DE"'
    )
    assert "\n" not in message


@pytest.mark.parametrize(
    ("given", "read_as"),
    [
        ("de_Schweiz", "de"),
        ("en_England", "en"),
        ("C", "en_US_POSIX"),
        ("de_DE.UTF-8", "de_DE"),
        ("root", "root"),
    ],
)
def test_a_locale_babel_reads_only_in_part_is_refused_not_shortened(given, read_as):
    # Before, "de_Schweiz" became "de": Swiss readers got German number formats. (Babel
    # 2.13 does not know "C" at all; later ones read it as en_US_POSIX: refused either way.)
    with pytest.raises(ConfigError) as caught:
        parse({"report": {"locale": given}})
    message = str(caught.value)
    assert f"[report] locale: {given!r} is not a known locale" in message
    assert message.endswith(f"(it reads as {read_as!r})") or given == "C"


def test_a_locale_must_be_text():
    with pytest.raises(ConfigError, match=r"\[report\] locale: expected a text value"):
        parse({"report": {"locale": 49}})


@pytest.mark.parametrize(
    ("report", "where", "says"),
    [
        ({"decimal_mark": ".", "thousands_separator": "."}, "thousands_separator", "must differ"),
        ({"decimal_mark": ",", "thousands_separator": ","}, "thousands_separator", "must differ"),
        # One override meeting the locale's other symbol: "1.234" would read both ways.
        ({"locale": "de_DE", "decimal_mark": "."}, "decimal_mark", "thousands separator of"),
        ({"decimal_mark": ","}, "decimal_mark", "is the thousands separator of locale en_US"),
        ({"thousands_separator": "."}, "thousands_separator", "decimal mark of locale en_US"),
        ({"locale": "de", "thousands_separator": ","}, "thousands_separator", "set decimal_mark"),
    ],
)
def test_decimal_mark_and_thousands_separator_in_use_must_differ(report, where, says):
    with pytest.raises(ConfigError) as caught:
        parse({"report": report})
    assert str(caught.value).startswith(f"config [report] {where}: ")
    assert says in str(caught.value)


@pytest.mark.parametrize(
    "report",
    [
        {"locale": "de_DE", "decimal_mark": ".", "thousands_separator": ","},
        {"locale": "de_DE", "thousands_separator": " "},
        {"locale": "en_US", "thousands_separator": ""},
        {"decimal_mark": ",", "thousands_separator": "."},
        {"locale": "fr_FR", "decimal_mark": "."},
    ],
)
def test_overrides_that_differ_are_accepted(report):
    assert parse({"report": report}).report.locale == report.get("locale", "en_US")


def test_override_values_keep_their_allowed_sets():
    with pytest.raises(ConfigError, match=r"decimal_mark: ';' is not allowed"):
        parse({"report": {"decimal_mark": ";"}})
    with pytest.raises(ConfigError, match=r"thousands_separator: '_' is not allowed"):
        parse({"report": {"thousands_separator": "_"}})


def test_an_empty_thousands_separator_for_the_data_is_refused_not_read_as_a_space():
    # "" is in every string: before, `"" in SPACES` made it a space without a word.
    with pytest.raises(ConfigError, match=r"\[data\] thousands_separator: \'\' is not allowed"):
        parse({"data": {"thousands_separator": ""}})
    assert parse({"data": {"thousands_separator": "\u202f"}}).data.thousands_separator == " "
