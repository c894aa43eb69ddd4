import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.config import parse
from reportgen.errors import DataError
from reportgen.ingest import read_table
from reportgen.roles import ROLES, Kind
from reportgen.validate import Example, validate
from tests.helpers import clean


def table(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype="string")


def fixes(result) -> dict[tuple[str, str | None], object]:
    return {(f.code, f.role): f for f in result.quality.fixes}


def test_roles_become_typed_columns(tiny_table):
    result = clean(tiny_table)
    frame = result.frame
    assert list(frame.columns) == ["customer_id", "recency", "spend", "frequency"]
    assert frame["spend"].tolist() == [100, 200, 300, 1000, 1100, 1200]
    assert frame["spend"].dtype == "float64"
    assert result.drivers == ("recency", "spend", "frequency")
    assert result.quality.fixes == ()
    assert (result.quality.rows_read, result.quality.rows_kept) == (6, 6)


def test_money_written_by_people_is_understood():
    result = clean(
        table(id=["1", "2", "3", "4", "5"], spend=["1,234", "$1,234.50", " 7 ", "-$3", "1e3"]),
        validation={"max_bad_share": 1.0},
    )
    assert result.frame["spend"].tolist()[:3] == [1234.0, 1234.5, 7.0]
    assert result.frame["spend"].tolist()[4] == 1000.0
    impossible = fixes(result)[("impossible", "spend")]
    assert impossible.count == 1
    assert [(e.row, e.value) for e in impossible.examples] == [(5, "-$3")]


def test_a_few_unreadable_cells_are_counted_and_imputed_with_the_median():
    spend = ["10", "20", "abc", "30", "40", "50", "inf", "60", "70", "80"]
    result = clean(
        table(id=[str(i) for i in range(10)], spend=spend), validation={"max_bad_share": 0.25}
    )
    found = fixes(result)
    assert found[("unreadable", "spend")].count == 2
    assert [(e.row, e.value) for e in found[("unreadable", "spend")].examples] == [
        (4, "abc"),
        (8, "inf"),
    ]
    assert found[("imputed", "spend")].count == 2
    assert "median (45)" in found[("imputed", "spend")].text
    assert result.frame["spend"].tolist() == [10, 20, 45, 30, 40, 50, 45, 60, 70, 80]


def test_a_spend_column_of_text_is_an_error_naming_column_rows_and_fix():
    with pytest.raises(DataError) as caught:
        clean(table(id=["1", "2", "3"], spend=["high", "low", "12"]))
    message = str(caught.value)
    assert (
        "table.csv: column 'spend' (role spend) holds 2 of 3 values that are not numbers" in message
    )
    assert "row 2: 'high', row 3: 'low'" in message
    assert '[columns] spend = "<column name>"' in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            ["TRUE", "false", "Yes", "no", "y", "N", "1", "0", "t", "F"],
            [True, False, True, False, True, False, True, False, True, False],
        ),
        (  # German, French, Spanish, Italian, Dutch, Portuguese exports (Excel's TRUE too)
            ["WAHR", "FALSCH", "ja", "Nein", "VRAI", "faux", "Sí", "no", "waar", "Não"],
            [True, False, True, False, True, False, True, False, True, False],
        ),
    ],
)
def test_booleans_in_every_spelling(raw, expected):
    result = clean(table(id=[str(i) for i in range(10)], spend=["1"] * 10, discount=raw))
    assert result.frame["discount"].tolist() == expected
    assert result.quality.fixes == ()


def test_satisfaction_labels_are_ordered_and_missing_ones_take_the_mode():
    result = clean(
        table(
            id=["1", "2", "3", "4", "5"],
            spend=["1"] * 5,
            satisfaction=["satisfied", "Neutral", None, "UNSATISFIED", "Satisfied"],
        )
    )
    values = result.frame["satisfaction"]
    assert values.cat.ordered
    assert list(values.cat.categories) == ["Unsatisfied", "Neutral", "Satisfied"]
    assert values.tolist() == ["Satisfied", "Neutral", "Satisfied", "Unsatisfied", "Satisfied"]
    imputed = fixes(result)[("imputed", "satisfaction")]
    assert imputed.count == 1 and imputed.examples[0].row == 4
    assert "most common value ('Satisfied')" in imputed.text


def test_duplicate_ids_keep_the_last_by_default_and_are_counted():
    raw = table(id=["1", "2", "1", "3", "1"], spend=["10", "20", "30", "40", "50"])
    result = clean(raw)
    assert result.frame[["customer_id", "spend"]].values.tolist() == [  # in id order
        ["1", 50.0],
        ["2", 20.0],
        ["3", 40.0],
    ]
    duplicate = fixes(result)[("duplicate_id", "customer_id")]
    assert duplicate.count == 2
    first = clean(raw, validation={"duplicates": "keep_first"})
    assert first.frame["spend"].tolist() == [10, 20, 40]  # ids 1, 2, 3
    with pytest.raises(DataError, match=r"3 rows share a customer id .*row 2: '1'"):
        clean(raw, validation={"duplicates": "error"})


def test_rows_without_an_id_are_dropped_and_counted():
    result = clean(table(id=["1", None, " ", "4"], spend=["1", "2", "3", "4"]))
    assert result.frame["customer_id"].tolist() == ["1", "4"]
    assert fixes(result)[("missing_id", "customer_id")].count == 2


def test_ids_keep_leading_zeros_and_spreadsheet_floats_lose_their_point():
    assert clean(table(id=["007", "08"], spend=["1", "2"])).frame["customer_id"].tolist() == [
        "007",
        "08",
    ]
    numeric = pd.DataFrame({"id": [101.0, 102.0], "spend": [1.0, 2.0]})
    assert clean(numeric).frame["customer_id"].tolist() == ["101", "102"]


def test_impossible_ratings_and_negative_recency_are_flagged():
    result = clean(
        table(
            id=[str(i) for i in range(6)],
            spend=["1"] * 6,
            rating=["4", "6", "0.5", "3", "5", "1"],
            recency=["1", "-2", "3", "4", "5", "6"],
        ),
        validation={"max_bad_share": 0.5},
    )
    found = fixes(result)
    assert found[("impossible", "rating")].count == 2
    assert "outside the scale 1–5" in found[("impossible", "rating")].text
    assert found[("impossible", "recency")].count == 1
    assert result.frame["rating"].tolist() == [4, 3.5, 3.5, 3, 5, 1]  # median of 4, 3, 5, 1


def test_drop_policy_drops_incomplete_rows_and_counts_per_column():
    result = clean(
        table(
            id=["1", "2", "3", "4"], spend=["1", None, "3", "4"], frequency=["1", "2", None, None]
        ),
        validation={"missing": "drop"},
    )
    assert result.frame["customer_id"].tolist() == ["1"]
    found = fixes(result)
    assert found[("dropped_missing", "spend")].count == 1
    assert found[("dropped_missing", "frequency")].count == 2


def test_a_mostly_empty_column_is_an_error():
    with pytest.raises(DataError, match=r"column 'rating' \(role rating\) is 75% empty"):
        clean(table(id=["1", "2", "3", "4"], spend=["1"] * 4, rating=[None, None, None, "4"]))


def test_missing_required_role_names_role_hint_and_columns_found():
    with pytest.raises(DataError) as caught:
        clean(table(id=["1"], visits=["3"]))
    message = str(caught.value)
    assert "required role 'spend': no column looks like it" in message
    assert "columns found: 'id', 'visits'" in message
    with pytest.raises(DataError) as caught:
        clean(table(id=["1"], visits=["3"]), columns={"spend": "Total Spend"})
    assert (
        "role 'spend': column 'Total Spend' (from [columns] spend) is not in "
        "the data; columns found: 'id', 'visits'"
    ) in str(caught.value)


def test_a_driver_without_a_column_is_an_error():
    with pytest.raises(DataError, match=r"\[features\] drivers names 'rating'"):
        clean(table(id=["1"], spend=["3"]), features={"drivers": ["spend", "rating"]})


def test_a_mapped_column_that_is_absent_is_named_without_calling_it_required():
    with pytest.raises(DataError) as caught:
        clean(table(id=["1"], spend=["3"]), columns={"rating": "Ratings"})
    assert str(caught.value) == (
        "role 'rating': column 'Ratings' (from [columns] rating) is not "
        "in the data; columns found: 'id', 'spend'"
    )


# Text that acts instead of showing (issue #13): every C0 and C1 control, every explicit
# bidirectional formatting character and the implicit marks (Unicode's Bidi_Control), and
# the Unicode line and paragraph separators, taken from the Unicode database itself.
_EXPLICIT_BIDI = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
BIDI_CONTROLS = sorted(
    {c for c in map(chr, range(0x3000)) if unicodedata.bidirectional(c) in _EXPLICIT_BIDI}
    | {"\u061c", "\u200e", "\u200f"}  # arabic letter mark, left-to-right and right-to-left marks
)
BREAKS = [c for c in map(chr, range(0x3000)) if c.isspace() and unicodedata.category(c)[0] != "Z"]
BREAKS += ["\u2028", "\u2029"]
REMOVED = [
    c for c in map(chr, range(0x3000)) if unicodedata.category(c) == "Cc" and c not in BREAKS
] + BIDI_CONTROLS
CONTROL_ACTION = (
    "values with control or text-direction characters cleaned (removed; tabs and line "
    "breaks became a space)"
)


def test_the_characters_tested_are_the_whole_class():
    assert [f"{ord(c):04X}" for c in BIDI_CONTROLS] == [
        "061C", "200E", "200F", "202A", "202B", "202C", "202D", "202E",
        "2066", "2067", "2068", "2069",
    ]  # fmt: skip
    assert "".join(BREAKS) == "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029"
    assert len(REMOVED) == 65 - 10 + 12  # C0, DEL and C1 but the breaks; the bidi controls


@pytest.mark.parametrize("char", REMOVED + BREAKS, ids=lambda c: f"U+{ord(c):04X}")
def test_each_control_or_direction_character_is_cleaned_from_every_role_and_counted(char):
    gap = " " if char in BREAKS else ""
    result = clean(
        table(
            id=[f"7{char}1", "72", "73"],
            spend=[f"{char}1,234.00", "5", "6"],
            city=[f"Mia{char}mi", f"{char}Houston{char}", "Chicago"],
            satisfaction=[f"{char}Satisfied", "Neutral", f"Neutral{char}"],
        )
    )
    assert result.frame.to_dict("list") == {
        "customer_id": [f"7{gap}1", "72", "73"],
        "spend": [1234.0, 5.0, 6.0],
        "satisfaction": ["Satisfied", "Neutral", "Neutral"],
        "city": [f"Mia{gap}mi", "Houston", "Chicago"],
    }
    assert [(f.code, f.role, f.column, f.count) for f in result.quality.fixes] == [
        ("control_characters", "customer_id", "id", 1),
        ("control_characters", "satisfaction", "satisfaction", 2),
        ("control_characters", "spend", "spend", 1),
        ("control_characters", "city", "city", 2),
    ]
    city = fixes(result)[("control_characters", "city")]
    assert city.text == CONTROL_ACTION
    assert [(e.row, e.value) for e in city.examples] == [
        (2, f"Mia{char}mi"),
        (3, f"{char}Houston{char}"),
    ]
    assert char not in city.describe()  # the raw example is shown escaped


_PLAIN = st.one_of(
    st.text(st.characters(categories=("L", "M", "N", "P", "S")) | st.just(" "), max_size=6),
    st.sampled_from(["القاهرة", "תל אביב", "دبي 2", "👩\u200d💻", "Zoë", "31.4%"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(_PLAIN, st.text(st.sampled_from(REMOVED), max_size=3)), max_size=4),
        min_size=1,
        max_size=8,
    )
)
def test_generated_text_loses_exactly_the_removed_characters(cells):
    values = ["x" + "".join(text + junk for text, junk in cell) for cell in cells]
    expected = ["x" + "".join(text for text, _ in cell) for cell in cells]
    result = clean(
        table(id=[f"{i:02d}" for i in range(len(cells))], spend=["1"] * len(cells), city=values)
    )
    assert result.frame["city"].tolist() == [e.strip() for e in expected]
    touched = sum(v != e for v, e in zip(values, expected, strict=True))
    assert [(f.code, f.count) for f in result.quality.fixes] == (
        [("control_characters", touched)] if touched else []
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=5),
            st.tuples(
                st.text(st.sampled_from(REMOVED + BREAKS), max_size=2),
                st.sampled_from(BREAKS),
                st.text(st.sampled_from(REMOVED + BREAKS), max_size=2),
            ).map("".join),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_each_run_of_generated_tabs_and_line_breaks_becomes_one_space(parts):
    value = "".join(text + run for text, run in parts)
    result = clean(table(id=["1", "2"], spend=["1", "2"], city=[value, "y"]))
    assert result.frame["city"].tolist() == [" ".join(text for text, _ in parts), "y"]
    assert fixes(result)[("control_characters", "city")].count == 1


def test_right_to_left_letters_and_joiners_are_kept_as_they_are():
    natural = ["القاهرة", "תל אביב", "دبي 2", "👩\u200d💻", "ميامي (فلوريدا)"]
    result = clean(
        table(id=[str(i) for i in range(5)], spend=["1"] * 5, city=natural, gender=natural)
    )
    assert result.frame["city"].tolist() == natural
    assert result.frame["gender"].tolist() == natural
    assert result.quality.fixes == ()


def test_column_names_are_cleaned_counted_and_still_found_by_their_written_name():
    raw = table(**{"id": ["1", "2"], "Total\u202e Spend": ["3", "4"], "Ci\x1bty\t": ["a", "b"]})
    result = clean(raw)
    assert list(result.frame.columns) == ["customer_id", "spend", "city"]
    assert result.roles.columns == {"customer_id": "id", "spend": "Total Spend", "city": "City"}
    assert [(f.code, f.role, f.column, f.count, f.examples) for f in result.quality.fixes] == [
        (
            "control_characters",
            None,
            None,
            2,
            (Example(1, "Total\u202e Spend"), Example(1, "Ci\x1bty\t")),
        )
    ]
    assert result.quality.fixes[0].describe() == (
        "2 column names with control or text-direction characters cleaned (removed; tabs and "
        "line breaks became a space) (e.g. row 1: 'Total\\u202e Spend', row 1: 'Ci\\x1bty\\t')"
    )
    # A config written by `reportgen init` holds the name as read; it still maps the column.
    mapped = clean(raw, columns={"spend": "Total\u202e Spend", "city": ""})
    assert mapped.roles.columns == {"customer_id": "id", "spend": "Total Spend"}
    assert mapped.quality.unused_columns == ("City",)


def test_two_column_names_that_clean_to_one_are_an_error():
    with pytest.raises(DataError) as caught:
        clean(table(id=["1"], spend=["2"], City=["a"], **{"Ci\u202ety": ["b"]}))
    assert str(caught.value) == (
        "table.csv: columns 'City' and 'Ci\\u202ety' have the same name once control and "
        "text-direction characters are removed ('City'); rename one of them"
    )


# Numbers too large for any customer metric (issue #13): 1e308 overflows scaling into NaN.
NUMERIC_ROLES = [role.name for role in ROLES if role.kind is Kind.NUMERIC]
TOO_LARGE_ACTION = "values beyond ±1e15 (no customer metric is that large) treated as missing"
EXTREMES = [
    ("1e308", "too_large"),
    ("-1e308", "too_large"),
    ("1e300", "too_large"),
    ("-1e200", "too_large"),
    ("1.7976931348623157e308", "too_large"),  # the largest float
    ("1000000000000001", "too_large"),  # just over the bound
    ("1.0000000000000002e15", "too_large"),  # the next float after it
    ("-1.0000000000000002e15", "too_large"),
    ("1e15", "kept"),  # the bound itself
    ("999999999999999.9", "kept"),  # just under it
    ("-1e15", "negative"),
    ("inf", "unreadable"),
    ("-inf", "unreadable"),
    ("Infinity", "unreadable"),
    ("-Infinity", "unreadable"),
    ("1e999", "unreadable"),  # overflows to inf when read
    ("-1e999", "unreadable"),
]


@pytest.mark.parametrize("role", NUMERIC_ROLES)
@pytest.mark.parametrize(("text", "outcome"), EXTREMES)
def test_extreme_numbers_in_every_numeric_role_are_missing_and_counted(role, text, outcome):
    values = ["1", "2", "3", "4", "5", "1", "2", "3", "4", "5"]
    values[3] = text  # row 5
    columns = {"id": [f"{i:02d}" for i in range(10)], "spend": values, "x": values}
    result = clean(table(**columns), columns={role: "x" if role != "spend" else "spend"})
    if (outcome == "kept" and role == "rating") or outcome == "negative":
        outcome = "impossible"  # within the bound, so judged by the role's own rule
    found = {(f.code, f.role): f for f in result.quality.fixes if f.role == role}
    shown = result.frame[role].tolist()
    if outcome == "kept":
        assert found == {}
        assert shown[3] == float(text)
        return
    assert set(found) == {(outcome, role), ("imputed", role)}
    assert found[(outcome, role)].count == 1
    assert found[(outcome, role)].examples == (Example(5, text),)
    if outcome == "too_large":
        assert found[(outcome, role)].text == TOO_LARGE_ACTION
    assert found[("imputed", role)].text == "missing values filled with the median (3)"
    assert shown == [1, 2, 3, 3, 5, 1, 2, 3, 4, 5]


@settings(max_examples=80, deadline=None)
@given(
    st.floats(min_value=1e15, exclude_min=True, allow_infinity=False)
    | st.floats(max_value=-1e15, exclude_max=True, allow_infinity=False),
    st.floats(min_value=0, max_value=1e15),
)
def test_generated_numbers_beyond_the_bound_are_missing_and_those_within_are_kept(huge, fine):
    spend = [repr(huge), repr(fine), "1", "2", "3", "4", "5", "6", "7", "8"]
    result = clean(table(id=[f"{i:02d}" for i in range(10)], spend=spend))
    assert [(f.code, f.count) for f in result.quality.fixes] == [("too_large", 1), ("imputed", 1)]
    assert result.frame["spend"].tolist()[1] == fine
    assert np.isfinite(result.frame["spend"]).all()


def test_numeric_satisfaction_beyond_the_bound_or_infinite_is_missing():
    result = clean(
        table(
            id=[f"{i:02d}" for i in range(10)],
            spend=["1"] * 10,
            satisfaction=["1", "2", "3", "1e308", "2", "3", "inf", "1", "2", "3"],
        ),
        validation={"max_bad_share": 0.25},
    )
    found = fixes(result)
    assert found[("unreadable", "satisfaction")].examples == (Example(8, "inf"),)
    assert found[("too_large", "satisfaction")].examples == (Example(5, "1e308"),)
    assert found[("imputed", "satisfaction")].count == 2
    assert result.frame["satisfaction"].tolist() == [1, 2, 3, 2, 2, 3, 2, 1, 2, 3]


def test_a_column_mostly_beyond_the_bound_is_an_error_naming_it():
    with pytest.raises(DataError) as caught:
        clean(table(id=["1", "2", "3"], spend=["1e308", "2e20", "4"]))
    assert str(caught.value) == (
        "table.csv: column 'spend' (role spend) holds 2 of 3 values that are beyond ±1e15 "
        "(e.g. row 2: '1e308', row 3: '2e20'); fix the column, or map another one with "
        '[columns] spend = "<column name>"'
    )


def test_bytes_repaired_while_reading_are_a_counted_fix(tmp_path):
    path = tmp_path / "shop.csv"  # UTF-8, with two stray Windows-1252 bytes
    path.write_bytes(
        b"Customer ID,Total Spend,City\n1,10,Z\xc3\xbcrich\n2,20,M\xfcnchen\n3,30,K\xf6ln\n"
    )
    data = validate(read_table(path), parse({}))
    assert list(data.frame["city"]) == ["Zürich", "München", "Köln"]
    (fix,) = [f for f in data.quality.fixes if f.code == "repaired_bytes"]
    assert fix.count == 2
    assert fix.describe() == (
        "2 bytes that were not UTF-8 read as Windows-1252 characters (values pasted from "
        "another program)"
    )


def test_missing_words_are_missing_for_numbers_and_kept_as_written_for_text():
    frame = pd.DataFrame(
        {
            "Customer ID": ["NA", "None", "c3", "c4", "c5", "c6", "c7"],
            "Total Spend": ["100", "NA", "n/a", "null", "300", "200", "400"],
            "Membership Type": ["None", "Gold", "NA", "Gold", "Gold", "None", "Gold"],
        }
    )
    data = clean(frame)
    assert sorted(data.frame["customer_id"]) == ["NA", "None", "c3", "c4", "c5", "c6", "c7"]
    assert sorted(data.frame["tier"]) == ["Gold"] * 4 + ["NA", "None", "None"]
    codes = {f.code: f.count for f in data.quality.fixes}
    assert codes == {"imputed": 3}  # missing, not "unreadable": nothing else was fixed
