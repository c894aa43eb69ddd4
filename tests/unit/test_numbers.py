"""Numbers as they are written: each column's decimal mark and thousands separator.

The class of failure: a number read with the wrong convention is wrong by a factor of
a thousand (or a hundred) and nothing says so. Each test goes through `validate`, the
stage every customer table passes, so the same tests ran against the reader before
numbers.py (which read "3.562" as 3.562 and refused "481,02").
"""

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.errors import DataError
from reportgen.ingest import read_table
from reportgen.validate import validate
from tests.helpers import config, dataset

US, DE, FR, CH = (".", ","), (",", "."), (",", " "), (".", "'")


def read(spend: list[str], delimiter: str | None = None, **tables: dict):
    """The spend column as validate reads it, with every other column plain."""
    frame = pd.DataFrame(
        {"id": [str(i) for i in range(len(spend))], "spend": spend}, dtype="string"
    )
    clean = validate(replace(dataset(frame), delimiter=delimiter), config(**tables))
    return clean.frame.sort_values("customer_id", key=lambda s: s.astype(int))["spend"].tolist()


def formats(spend: list[str], delimiter: str | None = None, **tables: dict):
    frame = pd.DataFrame({"id": [str(i) for i in range(len(spend))], "spend": spend})
    clean = validate(replace(dataset(frame), delimiter=delimiter), config(**tables))
    return [
        (f.column, f.decimal_mark, f.thousands_separator, f.decided_by)
        for f in clean.quality.number_formats
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (["1,234.50", "12.5", "7"], [1234.5, 12.5, 7]),  # US
        (["1.234,56", "481,02", "7"], [1234.56, 481.02, 7]),  # German
        (["1 234,56", "12,5", "7"], [1234.56, 12.5, 7]),  # French, plain space
        (["1\u202f234,56", "1\u00a0000", "3,5"], [1234.56, 1000, 3.5]),  # narrow/no-break
        (["1'234.50", "12.25", "7"], [1234.5, 12.25, 7]),  # Swiss
        (["1\u2019234.50", "12.25", "7"], [1234.5, 12.25, 7]),  # Swiss, typographic
        (["3.562", "12.500", "1.000.000"], [3562, 12500, 1_000_000]),  # whole euros
        (["12,500", "1,250,000", "7"], [12500, 1_250_000, 7]),  # whole dollars
        (["0,500", "7", "8"], [0.5, 7, 8]),  # a group never starts with a lone 0
        ([".5", "1.25", "7"], [0.5, 1.25, 7]),
    ],
)
def test_each_convention_is_read_from_the_column_itself(written, expected):
    assert read(written) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (["€ 12,50", "12,50 €", "EUR 1.234,56"], [12.5, 12.5, 1234.56]),
        (["$1,234.50", "USD 12.5", "12.50 USD"], [1234.5, 12.5, 12.5]),
        (["CHF 1'234.50", "Fr. 12.50", "12.5"], [1234.5, 12.5, 12.5]),
    ],
)
def test_currency_symbols_codes_and_signs_around_a_number_are_read(written, expected):
    assert read(written) == pytest.approx(expected)


def test_negative_amounts_are_read_with_their_sign_before_impossible_values_are_counted():
    # spend cannot be negative: the three negatives are counted as impossible, so each
    # must first have been read as a negative number, not as unreadable text.
    frame = pd.DataFrame(
        {"id": ["1", "2", "3", "4"], "spend": ["1.234,56-", "−12,5", "(1.000,25)", "5,5"]}
    )
    clean = validate(
        dataset(frame), config(validation={"max_bad_share": 1.0, "max_missing_share": 1.0})
    )
    [impossible] = [f for f in clean.quality.fixes if f.code == "impossible"]
    assert impossible.count == 3
    assert not [f for f in clean.quality.fixes if f.code == "unreadable"]


def test_what_decided_each_column_is_recorded():
    assert formats(["1.234,56", "7"]) == [("spend", ",", ".", "values")]
    assert formats(["12,5", "7"]) == [("spend", ",", "", "values")]
    assert formats(["3.562", "12.500"], delimiter=";") == [("spend", ",", ".", "delimiter")]
    assert formats(["3.562", "12.500"], data={"decimal_mark": ","}) == [
        ("spend", ",", ".", "setting")
    ]
    assert formats(["12", "7"]) == []  # no separator: nothing to record


@pytest.mark.parametrize("written", [["3.562", "12.500"], ["12,500", "1,250"]])
def test_a_column_that_can_be_read_two_ways_is_an_error_naming_values_and_setting(written):
    with pytest.raises(DataError) as error:
        read(written)
    message = str(error.value)
    assert "column 'spend' (role spend)" in message
    assert f"{written[0]!r} and {written[1]!r}" in message
    assert "[data] decimal_mark" in message


def _with_rating(delimiter: str | None, **columns: list[str]):
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "spend": ["3.562", "12.500", "1.000"],
            "rating": ["4,5", "3,0", "5"],  # a decimal comma, beyond doubt
            **columns,
        }
    )
    return validate(replace(dataset(frame), delimiter=delimiter), config())


@pytest.mark.parametrize("delimiter", [None, "\t", ";"])
def test_the_other_columns_decide_when_the_delimiter_agrees_or_says_nothing(delimiter):
    clean = _with_rating(delimiter)
    assert clean.frame["spend"].tolist() == [3562, 12500, 1000]
    assert clean.frame["rating"].tolist() == [4.5, 3.0, 5.0]
    assert ("spend", ",", ".", "other columns") in [
        (f.column, f.decimal_mark, f.thousands_separator, f.decided_by)
        for f in clean.quality.number_formats
    ]


def test_other_columns_and_a_delimiter_that_disagree_decide_nothing():
    with pytest.raises(DataError) as error:
        _with_rating(",")
    assert "the file's other columns write a decimal comma, its delimiter suggests a " in str(
        error.value
    )


def test_a_column_that_plays_no_role_does_not_vouch_for_the_decimal_mark():
    # Coordinates written with a point, in a ";" file of whole euros: before, they
    # decided, and 1.926 euros were read where the file meant 1926.
    frame = pd.DataFrame(
        {"id": ["1", "2"], "spend": ["1.926", "12.500"], "latitude": ["47.678976", "48.1"]}
    )
    clean = validate(replace(dataset(frame), delimiter=";"), config())
    assert clean.frame["spend"].tolist() == [1926, 12500]


@pytest.mark.parametrize("written", [["1.234e2", "2.500e1", "3.125E2"]])
def test_a_number_with_an_exponent_is_never_grouped_in_thousands(written):
    # Before, a ";" file made "1.234e2" 123400: a point between thousands, then e2.
    assert read(written, delimiter=";") == pytest.approx([123.4, 25, 312.5])


def test_a_decimal_mark_setting_alone_reads_the_column_with_its_grouping():
    # Twenty German values and one stray US one, with only decimal_mark set: before,
    # the setting chose "no thousands separator" and refused all twenty-one.
    spend = [f"1.{i:03d},07" for i in range(20)] + ["1,234.56"]
    frame = pd.DataFrame({"id": [str(i) for i in range(21)], "spend": spend})
    clean = validate(dataset(frame), config(data={"decimal_mark": ","}))
    [unreadable] = [f for f in clean.quality.fixes if f.code == "unreadable"]
    assert (unreadable.count, unreadable.examples[0].value) == (1, "1,234.56")
    assert clean.frame["spend"].tolist()[:2] == [1000.07, 1001.07]


def test_columns_that_disagree_do_not_decide_for_a_third():
    frame = pd.DataFrame(
        {
            "id": ["1", "2"],
            "spend": ["3.562", "12.500"],
            "rating": ["4,5", "3"],
            "age": ["40.5", "33"],
        }
    )
    with pytest.raises(DataError, match="can be read two ways"):
        validate(dataset(frame), config(columns={"age": "age"}))


def test_a_column_mixing_conventions_is_an_error_naming_two_values():
    with pytest.raises(DataError) as error:
        read(["1,234.56", "1.234,56", "7"])
    assert "mixes number formats: '1,234.56' and '1.234,56'" in str(error.value)


@pytest.mark.parametrize("typo", ["12..5", "1.2.3", "1,,5", "12 34", "1.234,5.6"])
def test_a_value_no_convention_reads_is_unreadable_not_a_second_convention(typo):
    frame = pd.DataFrame(
        {"id": ["1", "2", "3", "4", "5"], "spend": ["1.234,56", "12,5", "7", "3,25", typo]}
    )
    clean = validate(dataset(frame), config())
    [unreadable] = [f for f in clean.quality.fixes if f.code == "unreadable"]
    assert (unreadable.count, unreadable.examples[0].value) == (1, typo)
    assert clean.frame["spend"].tolist()[:4] == [1234.56, 12.5, 7.0, 3.25]


def test_the_setting_rules_and_values_it_cannot_read_are_counted():
    frame = pd.DataFrame(
        {"id": ["1", "2", "3", "4", "5"], "spend": ["1,5", "2,5", "3", "4", "1,234.56"]}
    )
    clean = validate(
        dataset(frame), config(data={"decimal_mark": ","}, validation={"max_bad_share": 0.5})
    )
    [unreadable] = [f for f in clean.quality.fixes if f.code == "unreadable"]
    assert (unreadable.count, unreadable.examples[0].value) == (1, "1,234.56")
    assert clean.frame["spend"].tolist()[:4] == [1.5, 2.5, 3.0, 4.0]


def test_values_a_setting_cannot_read_are_an_error_that_names_the_setting():
    with pytest.raises(DataError) as error:
        read(["1.217,93 €", "12,5", "3"], data={"thousands_separator": "none"})
    assert "[data] decimal_mark = 'auto' and thousands_separator = 'none'" in str(error.value)


def test_thousands_none_means_a_separator_is_never_read_as_one():
    # "1.234" with no thousands separator allowed can only be a decimal number.
    assert read(["1.234", "12.500"], data={"thousands_separator": "none"}) == [1.234, 12.5]


def test_a_semicolon_file_of_whole_euros_reads_as_thousands(tmp_path: Path):
    path = tmp_path / "kunden.csv"
    path.write_text("Kunde;Umsatz\n1;3.562\n2;12.500\n3;980\n", encoding="utf-8")
    clean = validate(read_table(path), config(columns={"customer_id": "Kunde", "spend": "Umsatz"}))
    assert clean.frame["spend"].tolist() == [3562, 12500, 980]


def _written(value: float, decimals: int, convention: tuple[str, str]) -> str:
    decimal_mark, thousands = convention
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", decimal_mark).replace("\0", thousands)


amounts = st.lists(st.integers(min_value=0, max_value=10**9), min_size=2, max_size=12, unique=True)


@settings(max_examples=150, deadline=None)
@given(
    cents=amounts,
    decimals=st.sampled_from([0, 2]),
    convention=st.sampled_from([US, DE, FR, CH, (".", ""), (",", "")]),
    delimiter=st.sampled_from([None, "decides"]),
)
def test_a_column_is_read_exactly_or_refused_never_misread(cents, decimals, convention, delimiter):
    values = [c / 100 if decimals else c for c in cents]
    written = [_written(v, decimals, convention) for v in values]
    # The delimiter an export of that convention would have: ";" beside a decimal comma.
    sep = {",": ";", ".": ","}[convention[0]] if delimiter else None
    try:
        got = read(written, delimiter=sep)
    except DataError as error:
        assert sep is None, error  # only undecided columns may be refused
        assert "can be read two ways" in str(error)
        return
    assert got == pytest.approx(values, rel=1e-12, abs=1e-9)


GERMAN_LOG = """Bestellnummer;Kunde;Datum;Menge;Betrag
B1;A;2026-10-01;2;481,02
B2;A;2026-10-21;1;1.234,50
B3;B;2026-09-01;1;3.562
B4;C;2026-10-15;3;12,5
"""


def _log(tmp_path: Path, text: str, **data):
    from reportgen.config import DataSettings, OrderSettings
    from reportgen.orders import read_orders

    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    settings = OrderSettings(
        columns={
            "customer_id": "Kunde",
            "order_date": "Datum",
            "order_id": "Bestellnummer",
            "quantity": "Menge",
            "amount": "Betrag",
        },
        as_of=pd.Timestamp("2026-11-01").date(),
    )
    return read_orders(path, settings, DataSettings(**data))


def test_an_order_log_reads_its_amounts_as_written(tmp_path: Path):
    # Before, "481,02" lost its comma and became 48102, and "3.562" was 3.562.
    log = _log(tmp_path, GERMAN_LOG)
    spend = log.dataset.frame.set_index("customer_id")["spend"].to_dict()
    assert spend == pytest.approx({"A": 481.02 + 1234.5, "B": 3562, "C": 12.5})
    assert [
        (f.column, f.decimal_mark, f.thousands_separator, f.decided_by) for f in log.number_formats
    ] == [("Betrag", ",", ".", "values")]


def test_an_order_log_whose_amounts_can_be_read_two_ways_is_refused(tmp_path: Path):
    lines = [
        "Bestellnummer,Kunde,Datum,Menge,Betrag",
        "B1,A,2026-10-01,2,3.562",
        "B2,B,2026-10-02,1,12.500",
    ]
    text = "\n".join(lines).replace(",", "\t") + "\n"  # a tab says nothing of the decimal mark
    with pytest.raises(DataError, match="'Betrag' \\(role amount\\): its numbers can be read"):
        _log(tmp_path, text)
    log = _log(tmp_path, text, decimal_mark=",")
    spend = log.dataset.frame.set_index("customer_id")["spend"].to_dict()
    assert spend == {"A": 3562, "B": 12500}


def _workbook(tmp_path: Path, spend: list[object]) -> Path:
    """A workbook whose spend cells are numbers or text exactly as given (openpyxl keeps
    a str as a text cell, an int or float as a number cell)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Kundennummer", "Umsatz"])
    for i, value in enumerate(spend):
        sheet.append([f"K{i}", value])
    path = tmp_path / "kunden.xlsx"
    book.save(path)
    return path


def test_a_workbook_text_cell_is_read_as_written_not_as_pandas_guesses(tmp_path: Path):
    # Before, pandas made the text cells "3.562" and "12.500" the numbers 3.562 and 12.5.
    path = _workbook(tmp_path, ["3.562", "12.500", "1.000"])
    with pytest.raises(DataError, match="can be read two ways"):
        validate(read_table(path), config())
    clean = validate(read_table(path), config(data={"decimal_mark": ","}))
    assert clean.frame["spend"].tolist() == [3562, 12500, 1000]


def test_a_workbook_number_cell_is_a_number_whatever_the_text_cells_write(tmp_path: Path):
    # The number cells 3.562 and 2.125 stay 3.562 and 2.125 beside text with a decimal
    # comma; before, they were turned into text and read as 3562 and 2125.
    path = _workbook(tmp_path, [3.562, 2.125, "1.234,56", "481,02", 7])
    clean = validate(read_table(path), config())
    assert clean.frame["spend"].tolist() == [3.562, 2.125, 1234.56, 481.02, 7]
    assert [(f.decimal_mark, f.thousands_separator) for f in clean.quality.number_formats] == [
        (",", ".")
    ]


def test_amounts_in_more_than_one_currency_are_an_error_naming_two_of_them():
    # Before, EUR, USD and CHF amounts were added up as if they were one currency.
    with pytest.raises(DataError) as error:
        read(["EUR 1.234,56", "USD 1.234,56", "CHF 12,50"])
    assert "holds amounts in more than one currency (EUR, USD, CHF; e.g. 'EUR 1.234,56' and " in (
        str(error.value)
    )


def test_a_sign_and_its_code_are_one_currency_and_it_is_recorded():
    frame = pd.DataFrame({"id": ["1", "2", "3"], "spend": ["€ 12,50", "12,50 EUR", "7,00 €"]})
    clean = validate(dataset(frame), config())
    assert clean.frame["spend"].tolist() == [12.5, 12.5, 7.0]
    assert [f.currency for f in clean.quality.number_formats] == ["EUR"]


@pytest.mark.parametrize("written", ["1,5 MIO", "12 TSD", "3 MRD", "+-12,50", "--5"])
def test_a_scale_word_or_two_signs_make_a_value_unreadable_not_smaller(written):
    # Before, any three capitals were a currency code: "1,5 MIO" was read as 1.5.
    frame = pd.DataFrame(
        {"id": ["1", "2", "3", "4", "5"], "spend": [written, "3,5", "4", "5", "6"]}
    )
    clean = validate(dataset(frame), config())
    [unreadable] = [f for f in clean.quality.fixes if f.code == "unreadable"]
    assert (unreadable.count, unreadable.examples[0].value) == (1, written)
