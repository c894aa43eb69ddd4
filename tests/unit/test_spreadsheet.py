import pandas as pd

from reportgen.spreadsheet import neutralise


def test_formula_prefixes_are_neutralised_and_numbers_kept():
    hostile = pd.Series(
        [
            "=1+1",
            "+SUM(A1)",
            "-2+3",
            "@cmd",
            "\tx",
            "\rx",
            "  =1",
            "'=1",
            '"=1',
            "-10",
            "+5",
            "-1.5e3",
            "abc",
            "a=b",
            None,
        ],
        dtype="string",
    )
    assert neutralise(hostile).tolist() == [
        "'=1+1",
        "'+SUM(A1)",
        "'-2+3",
        "'@cmd",
        "'\tx",
        "'\rx",
        "'  =1",
        "''=1",
        "'\"=1",
        "-10",
        "+5",
        "-1.5e3",
        "abc",
        "a=b",
        pd.NA,
    ]


def test_numeric_columns_are_untouched():
    numbers = pd.Series([-10, 3])
    assert neutralise(numbers) is numbers
