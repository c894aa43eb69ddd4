from pathlib import Path

import pandas as pd
import pytest

from reportgen.errors import InputError
from reportgen.ingest import read_table

ROWS = "id,spend,city\n1,10.5,Zürich\n2,20,Köln\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (ROWS.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + ROWS.encode("utf-8"), "utf-8-sig"),
        (ROWS.encode("cp1252"), "latin-1"),
        (ROWS.encode("utf-16"), "utf-16"),
    ],
)
def test_encodings(tmp_path, data, encoding):
    table = read_table(write(tmp_path, "t.csv", data))
    assert table.encoding == encoding
    assert list(table.frame.columns) == ["id", "spend", "city"]  # no BOM left in the first name
    assert table.frame["city"].tolist() == ["Zürich", "Köln"]
    assert table.frame["spend"].tolist() == ["10.5", "20"]  # text: validation parses it
    assert table.rows == 2


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_detected(tmp_path, delimiter):
    text = ROWS.replace(",", delimiter)
    table = read_table(write(tmp_path, "t.csv", text.encode()))
    assert table.delimiter == delimiter
    assert table.frame.shape == (2, 3)


def test_decimal_commas_inside_quotes_do_not_fool_the_sniffer(tmp_path):
    text = 'id;spend;note\n1;"1,5";"a, b"\n2;"2,5";"c, d"\n'
    table = read_table(write(tmp_path, "t.csv", text.encode()))
    assert table.delimiter == ";"
    assert table.frame["note"].tolist() == ["a, b", "c, d"]


def test_leading_zeros_survive(tmp_path):
    table = read_table(write(tmp_path, "t.csv", b"id,spend\n007,1\n010,2\n"))
    assert table.frame["id"].tolist() == ["007", "010"]


def test_parquet_and_excel(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b"], "spend": [1.5, 2.5]})
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    for name, fmt in (("t.parquet", "parquet"), ("t.xlsx", "excel")):
        table = read_table(tmp_path / name)
        assert table.format == fmt
        assert table.frame["spend"].tolist() == [1.5, 2.5]


def test_the_hash_is_of_the_file_bytes(tmp_path):
    import hashlib

    data = ROWS.encode()
    assert read_table(write(tmp_path, "t.csv", data)).sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("t.json", b"{}", "unknown file type '.json'; use one of"),
        ("t", b"x", "unknown file type '(no extension)'"),
        ("t.csv", b"", "the file is empty"),
        ("t.csv", b"  \n\n", "the file is empty"),
        ("t.csv", b"id,spend\n", "the table has a header but no data rows"),
        ("t.csv", b"id\n1\n2\n", "only one column ('id') was found (is the delimiter"),
        ("t.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "the file is binary, not a text"),
        ("t.parquet", b"PAR1 this is not really parquet", "not a readable Parquet file"),
        ("t.xlsx", b"PK\x03\x04 broken zip", "not a readable Excel workbook"),
    ],
)
def test_unreadable_inputs_say_why(tmp_path, name, data, message):
    path = write(tmp_path, name, data)
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputError, match="is a folder, not a file"):
        read_table(tmp_path / "dir.csv")


def test_truncated_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"id": range(1000), "spend": range(1000)}).to_parquet(path)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(InputError, match="not a readable Parquet file"):
        read_table(path)


def test_excel_xml_is_parsed_through_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML  # openpyxl found defusedxml: entity-expansion bombs are refused
