import pandas as pd

from reportgen import sample
from reportgen.resources import sample_data_path
from tests.helpers import REAL_COLUMNS, clean


def test_same_seed_same_table_and_the_real_columns():
    first = sample.to_csv_bytes(sample.generate(300, seed=3))
    assert first == sample.to_csv_bytes(sample.generate(300, seed=3))
    assert first != sample.to_csv_bytes(sample.generate(300, seed=4))
    assert list(sample.generate(10).columns) == REAL_COLUMNS


def test_the_committed_sample_is_what_the_generator_makes():
    expected = sample.to_csv_bytes(sample.generate())
    assert sample_data_path().read_bytes() == expected, (
        "data/sample_customers.csv is stale: regenerate it with "
        "`reportgen sample --out data/sample_customers.csv --force`"
    )


def test_the_sample_has_gaps_and_mixed_booleans_that_validation_fixes():
    table = sample.generate()
    assert len(table) == 2000
    spellings = set(table["Discount Applied"])
    assert {"TRUE", "FALSE", "Yes", "No", "y", "n", "1", "0"} <= spellings
    result = clean(table.astype("string"))
    imputed = {f.role: f.count for f in result.quality.fixes if f.code == "imputed"}
    assert imputed == {
        "satisfaction": int(table["Satisfaction Level"].isna().sum()),
        "rating": int(table["Average Rating"].isna().sum()),
        "age": int(table["Age"].isna().sum()),
    }
    assert all(count > 0 for count in imputed.values())
    assert pd.api.types.is_bool_dtype(result.frame["discount"])
