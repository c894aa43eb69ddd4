from datetime import date

import pytest
from babel.numbers import get_group_symbol

from reportgen.formatting import Formatter

F = Formatter()


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: F.money(1459.77), "$1,460"),
        (lambda: F.money(2_400_000), "$2.4M"),
        (lambda: F.money(-12), "−$12"),
        (lambda: F.money(None), "–"),
        (lambda: Formatter("CHF").money(10), "CHF\u00a010"),
        (lambda: Formatter("EUR", ",", ".").money(1459.77), "€1.460"),
        (lambda: F.number(19.0), "19"),
        (lambda: F.number(7.57), "7.6"),
        (lambda: F.number(7.96), "8"),
        (lambda: F.number(12345.6), "12,346"),
        (lambda: F.number(0.7446, 2), "0.74"),
        (lambda: Formatter("EUR", ",", " ").number(1234.5, 1), "1 234,5"),
        (lambda: F.percent(0.28614), "28.6%"),
        (lambda: F.percent(1.0), "100.0%"),
        (lambda: F.percent(0.2), "20.0%"),
        (lambda: F.percent(0.0), "0.0%"),
        (lambda: F.times(1.7267), "1.7×"),
        (lambda: F.change(0.036), "+3.6%"),
        (lambda: F.change(-0.24), "−24.0%"),
        (lambda: F.points(0.012), "+1.2 pts"),
        (lambda: F.points(-0.004), "−0.4 pts"),
        (lambda: F.days(11.4), "11 days"),
        (lambda: F.days(1.2), "1 day"),
    ],
)
def test_formats(call, expected):
    assert call() == expected


# --- the locale ([report] locale) ------------------------------------------------------

NB = "\u00a0"  # no-break space, as CLDR puts between a figure and "%" or "€" in German
NNB = "\u202f"  # narrow no-break space, the French thousands separator
CH = get_group_symbol("de_CH")
"""de_CH groups with an apostrophe: "’" in older CLDR (Babel 2.13, the oldest supported),
"'" in CLDR 46+; the test takes the installed one."""

EN, DE, SWISS, FR = (Formatter(locale=name) for name in ("en_US", "de_DE", "de_CH", "fr_FR"))
EN_EUR, DE_EUR, SWISS_EUR, FR_EUR = (
    Formatter("EUR", locale=name) for name in ("en_US", "de_DE", "de_CH", "fr_FR")
)

# filter: (call, en_US, de_DE, de_CH, fr_FR)
BY_LOCALE = {
    "number": (lambda f: f.number(12345.6), "12,346", "12.346", f"12{CH}346", f"12{NNB}346"),
    "number-decimal": (lambda f: f.number(7.57), "7.6", "7,6", "7.6", "7,6"),
    "number-whole": (lambda f: f.number(19.0), "19", "19", "19", "19"),
    "number-2": (lambda f: f.number(1234.5678, 2), "1,234.57", "1.234,57", f"1{CH}234.57",
                 f"1{NNB}234,57"),
    "number-negative": (lambda f: f.number(-1234.5), "−1,234", "−1.234", f"−1{CH}234",
                        f"−1{NNB}234"),
    "money-usd": (lambda f: f.money(1459.77), "$1,460", f"1.460{NB}$", f"${NB}1{CH}460",
                  f"1{NNB}460{NB}$US"),
    "money-usd-small": (lambda f: f.money(950), "$950", f"950{NB}$", f"${NB}950", f"950{NB}$US"),
    "money-usd-negative": (lambda f: f.money(-12), "−$12", f"−12{NB}$", f"−${NB}12",
                           f"−12{NB}$US"),
    "percent": (lambda f: f.percent(0.28614), "28.6%", f"28,6{NB}%", "28.6%", f"28,6{NB}%"),
    "percent-whole": (lambda f: f.percent(1.0), "100.0%", f"100,0{NB}%", "100.0%", f"100,0{NB}%"),
    "percent-chart": (lambda f: f.percent(0.286, 0), "29%", f"29{NB}%", "29%", f"29{NB}%"),
    "times": (lambda f: f.times(1.7267), "1.7×", "1,7×", "1.7×", "1,7×"),
    "days": (lambda f: f.days(11.4), "11 days", "11 Tage", "11 Tage", f"11{NB}jours"),
    "day": (lambda f: f.days(1.2), "1 day", "1 Tag", "1 Tag", f"1{NB}jour"),
    "days-many": (lambda f: f.days(1234), "1,234 days", "1.234 Tage", f"1{CH}234 Tage",
                  f"1{NNB}234{NB}jours"),
    "change": (lambda f: f.change(0.036), "+3.6%", f"+3,6{NB}%", "+3.6%", f"+3,6{NB}%"),
    "change-down": (lambda f: f.change(-0.24), "−24.0%", f"−24,0{NB}%", "−24.0%",
                    f"−24,0{NB}%"),
    "points": (lambda f: f.points(0.012), "+1.2 pts", "+1,2 Pp.", "+1.2 Pp.", "+1,2 pts"),
    "points-down": (lambda f: f.points(-0.004), "−0.4 pts", "−0,4 Pp.", "−0.4 Pp.", "−0,4 pts"),
    "signed": (lambda f: f.signed(-1.25), "−1.2", "−1,2", "−1.2", "−1,2"),
    "date": (lambda f: f.date(date(2026, 11, 30)), "November 30, 2026", "30. November 2026",
             "30. November 2026", "30 novembre 2026"),
    "date-iso-text": (lambda f: f.date("2026-03-01"), "March 1, 2026", "1. März 2026",
                      "1. März 2026", "1 mars 2026"),
    "month": (lambda f: f.month("2026-11"), "November 2026", "November 2026", "November 2026",
              "novembre 2026"),
    "month-march": (lambda f: f.month("2026-03"), "March 2026", "März 2026", "März 2026",
                    "mars 2026"),
}  # fmt: skip
CASES = [
    pytest.param(call, formatter, expected, id=f"{name}-{formatter.locale}")
    for name, (call, *outputs) in BY_LOCALE.items()
    for formatter, expected in zip((EN, DE, SWISS, FR), outputs, strict=True)
]


@pytest.mark.parametrize(("call", "formatter", "expected"), CASES)
def test_each_filter_follows_the_locale(call, formatter, expected):
    assert call(formatter) == expected


@pytest.mark.parametrize(
    ("formatter", "expected"),
    [
        (EN_EUR, ["€1,460", "€2.4M", "€1.2B", "−€12"]),
        (DE_EUR, [f"1.460{NB}€", f"2,4{NB}Mio.{NB}€", f"1,2{NB}Mrd.{NB}€", f"−12{NB}€"]),
        (FR_EUR, [f"1{NNB}460{NB}€", f"2,4{NB}M{NB}€", f"1,2{NB}Md{NB}€", f"−12{NB}€"]),
        (Formatter(locale="en_US"), ["$1,460", "$2.4M", "$1.2B", "−$12"]),
        (Formatter(locale="de_DE"), [f"1.460{NB}$", f"2,4{NB}Mio.{NB}$", f"1,2{NB}Mrd.{NB}$",
                                     f"−12{NB}$"]),
    ],
)  # fmt: skip
def test_money_in_dollars_and_euros_small_and_in_compact_millions(formatter, expected):
    assert [formatter.money(v) for v in (1459.77, 2_400_000, 1_200_000_000, -12)] == expected


def test_swiss_money_in_euros_and_the_million_boundary():
    assert SWISS_EUR.money(950) == f"EUR{NB}950"  # CLDR's de_CH symbol for the euro
    assert SWISS_EUR.money(-1459.77) == f"−EUR{NB}1{CH}460"
    assert EN.money(999_999.4) == "$999,999"
    assert EN.money(999_999.6) == "$1M"  # a million once rounded to whole units
    assert DE_EUR.money(1_000_000) == f"1{NB}Mio.{NB}€"


def test_a_currency_without_a_sign_is_spaced_from_the_digits():
    assert Formatter("CHF").money(10) == f"CHF{NB}10"
    assert Formatter("CHF", locale="de_DE").money(10) == f"10{NB}CHF"


@pytest.mark.parametrize("formatter", [EN, DE, SWISS, FR, EN_EUR, DE_EUR])
def test_none_and_not_finite_read_as_a_dash_in_every_filter(formatter):
    for name in ("number", "signed", "money", "percent", "times", "days", "change", "points"):
        for value in (None, float("nan"), float("inf")):
            assert getattr(formatter, name)(value) == "–", (name, value)
    assert formatter.date(None) == "–" and formatter.month(None) == "–"


def test_negative_figures_take_the_real_minus_and_zero_takes_none():
    for formatter in (EN, DE, FR):
        for text in (formatter.number(-3.5), formatter.money(-3), formatter.percent(-0.1)):
            assert text.startswith("−") and "-" not in text
    assert EN.number(-0.04) == "0" and EN.money(-0.4) == "$0"
    # A figure that rounds to zero has no sign, "+" included (it read "+0,0" and "−0,0 %").
    assert (
        DE.signed(0.0) == "0,0" and DE.signed(-0.04) == "0,0" and DE.change(-0.0004) == f"0,0{NB}%"
    )
    assert EN.points(-0.0004) == "0.0 pts" and EN.change(0.0004) == "0.0%"


def test_overrides_replace_the_locales_symbols_in_every_number():
    # German brief, English separators: every figure, every filter.
    f = Formatter("EUR", ".", ",", locale="de_DE")
    assert f.number(1234.5, 1) == "1,234.5"
    assert f.money(1459.77) == f"1,460{NB}€"
    assert f.money(2_400_000) == f"2.4{NB}Mio.{NB}€"  # "Mio." keeps its own dot
    assert f.percent(0.28614) == f"28.6{NB}%"
    assert f.times(1.73) == "1.7×"
    assert f.days(1234) == "1,234 Tage"
    assert f.change(0.036) == f"+3.6{NB}%"
    assert f.points(0.012) == "+1.2 Pp."
    assert f.signed(-1.25) == "−1.2"
    assert f.date("2026-11-30") == "30. November 2026"  # dates have no marks to replace
    # Only one override: the other symbol stays the locale's.
    assert Formatter(locale="de_DE", thousands_separator=" ").number(1234567.8, 1) == (
        "1 234 567,8"
    )
    assert Formatter(locale="en_US", thousands_separator="").money(1234567) == "$1.2M"
    assert Formatter(locale="en_US", thousands_separator="").money(123456) == "$123456"
    assert Formatter(locale="fr_FR", decimal_mark=".").number(1234.5, 1) == f"1{NNB}234.5"
    assert Formatter(locale="de_CH", thousands_separator="'").number(1234) == "1'234"


def test_the_locale_is_not_ignored():
    """Were the locale ignored (every figure written the en_US way), these would fail."""
    assert DE.percent(0.28614) != EN.percent(0.28614)
    assert DE_EUR.money(1459.77) == f"1.460{NB}€" != EN_EUR.money(1459.77)
    assert DE.days(11) != EN.days(11)
    assert DE.month("2026-03") != EN.month("2026-03")


def test_date_and_month_leave_what_they_cannot_read_unchanged():
    assert EN.month("2026-Q4") == "2026-Q4"
    assert EN.month("2026-13") == "2026-13"
    assert EN.month("week-47") == "week-47"
    assert EN.date("last Monday") == "last Monday"
    assert EN.date("2026-11-30T08:15:00") == "November 30, 2026"
    assert DE.date("2026-11-30", "medium") == "30.11.2026"


def test_filters_include_date_month_and_signed_and_keep_the_others():
    names = set(Formatter().filters())
    assert names == {
        "money", "number", "signed", "percent", "times", "days", "change", "points",
        "date", "month", "month_short", "role_value", "clip",
    }  # fmt: skip


def test_a_short_month_is_the_locale_s_abbreviation():
    assert [EN.month_short("2026-11"), EN.month_short("2026-01", year=True)] == ["Nov", "Jan 2026"]
    # German's own abbreviations (CLDR's spelling, "Mär" or "März", varies by release)
    assert DE.month_short("2026-03").startswith("Mär") and DE.month_short("2026-10") == "Okt"


def test_role_values_follow_the_locale():
    assert DE_EUR.role_value(1459.77, "spend") == f"1.460{NB}€"
    assert DE.role_value(11.4, "recency") == "11 Tage"
    assert DE.role_value(7.954, "rating", precise=True) == "7,95"


def test_an_unknown_locale_fails_when_the_formatter_is_made():
    from babel import UnknownLocaleError

    with pytest.raises(UnknownLocaleError):
        Formatter(locale="xx_YY")


def test_for_report_takes_currency_locale_and_overrides_from_the_config():
    from reportgen.config import parse

    report = parse({"report": {"locale": "de-DE", "currency": "EUR"}}).report
    assert Formatter.for_report(report) == Formatter("EUR", None, None, "de_DE")
    assert Formatter.for_report(report).money(1459.77) == f"1.460{NB}€"


def test_localise_rewrites_plain_numbers_such_as_axis_ticks():
    assert DE.localise("−0.5") == "−0,5"
    assert DE.localise("1,234.5 and 2.0") == "1.234,5 and 2,0"
    assert DE.localise("Mio. 1e6") == "Mio. 1e6"
    assert EN.localise("−0.5") == "−0.5"
    assert (
        Formatter(locale="de_DE", decimal_mark=".", thousands_separator=" ").localise("1,234.5")
        == "1 234.5"
    )


def test_words_of_figures_follow_the_wording_language_and_digits_the_locale():
    # fr_FR has no catalogue: the wording is English, so are "days" and month names, while
    # digits, grouping, decimal mark and currency place stay French.
    french = Formatter("EUR", locale="fr_FR", words="en")
    assert french.days(124) == "124 days"
    assert french.days(1) == "1 day"
    assert french.days(1234) == f"1{NNB}234 days"
    assert french.date("2026-12-01") == "December 1, 2026"
    assert french.month("2026-01") == "January 2026"
    assert french.number(1234.5, 1) == f"1{NNB}234,5"
    assert french.money(1460) == f"1{NNB}460{NB}€"
    assert french.points(0.012) == "+1,2 pts"
    # German wording keeps German words; de_CH keeps them with Swiss numbers.
    assert Formatter(locale="de_DE", words="de").days(11) == "11 Tage"
    swiss = Formatter(locale="de_CH", words="de")
    assert swiss.month("2026-11") == "November 2026" and swiss.days(1234) == "1’234 Tage".replace(
        "’", get_group_symbol("de_CH")
    )


def test_for_report_takes_the_wording_language():
    from reportgen.config import parse
    from reportgen.wording import Wording

    french = parse({"report": {"locale": "fr_FR", "currency": "EUR"}}).report
    assert Formatter.for_report(french).words == "en"  # no French catalogue
    assert Formatter.for_report(french).days(124) == "124 days"
    assert Formatter.for_report(french, Wording(locale="fr_FR")).month("2026-01") == "January 2026"
    german = parse({"report": {"locale": "de_CH"}}).report
    assert Formatter.for_report(german).words is None
    assert Formatter.for_report(german).days(11) == "11 Tage"


@pytest.mark.parametrize("locale", ["en_US", "de_DE"])
@pytest.mark.parametrize("value", [1e25, 1e300, -1e300, 1e-31])
def test_every_filter_writes_extreme_figures_instead_of_failing(locale, value):
    # A chart tick of a perfect clustering's criteria reached 1e25 with six decimals, past
    # the 28 digits Babel rounds in by default: the run stopped with InvalidOperation.
    formatter = Formatter("EUR", locale=locale)
    for name in ("number", "money", "percent", "times", "days", "change", "points", "signed"):
        text = getattr(formatter, name)(value)
        assert isinstance(text, str) and text
    assert formatter.number(value, 6)


@pytest.mark.parametrize(
    ("locale", "currency", "expected"),
    [("pt_BR", "BRL", "R$12,3M"), ("nl_NL", "EUR", "€12,3M"), ("ja_JP", "JPY", "¥12.3M")],
)
def test_compact_money_in_an_english_brief_has_english_words_and_the_locales_marks(
    locale, currency, expected
):
    # Before, a brief falling back to English wording wrote "R$ 12,3 mi" and "￥1230万".
    assert Formatter(currency, locale=locale, words="en").money(12_300_000) == expected


def test_the_yen_is_written_with_the_sign_the_fonts_have():
    assert "\uffe5" not in Formatter("JPY", locale="ja_JP").money(2377)
    assert Formatter("JPY", locale="ja_JP").money(2377).startswith("\u00a5")
