import pandas as pd
import pytest

from reportgen.errors import DataError
from tests.conftest import clean


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
    assert "median (45)" in found[("imputed", "spend")].action
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
    assert "most common value ('Satisfied')" in imputed.action


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
    assert "outside the scale 1–5" in found[("impossible", "rating")].action
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
