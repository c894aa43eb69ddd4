from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
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
        (ROWS.encode("cp1252"), "cp1252"),
        (ROWS.encode("utf-16"), "utf-16"),
    ],
)
def test_encodings(tmp_path, data, encoding):
    table = read_table(write(tmp_path, "t.csv", data))
    assert table.encoding == encoding
    assert list(table.frame.columns) == ["id", "spend", "city"]  # no BOM left in the first name
    assert table.frame["city"].tolist() == ["Zürich", "Köln"]
    assert table.frame["spend"].tolist() == ["10.5", "20"]  # text: validation parses it
    assert table.rows == 2 and table.repaired_bytes == 0


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


def test_a_windows_1252_export_keeps_its_euro_sign_and_quotes(tmp_path):
    data = "id,spend,note\n1,5,€ 5 for O’Brien\n2,6,“x”\n".encode("cp1252")
    table = read_table(write(tmp_path, "t.csv", data))
    assert table.encoding == "cp1252" and table.repaired_bytes == 0
    assert table.frame["note"].tolist() == ["€ 5 for O’Brien", "“x”"]


@pytest.mark.parametrize(("bom", "encoding"), [(b"", "utf-8"), (b"\xef\xbb\xbf", "utf-8-sig")])
def test_a_stray_byte_in_a_utf8_file_is_read_as_windows_1252_and_counted(tmp_path, bom, encoding):
    # One value pasted from a Windows-1252 export: the rest of the file stays UTF-8.
    data = bom + "id,spend,city\n1,10.5,Zürich\n".encode() + b"2,20,M\xfcnchen\n3,30,O\x92Brien\n"
    table = read_table(write(tmp_path, "t.csv", data))
    assert table.encoding == encoding and table.repaired_bytes == 2
    assert list(table.frame.columns) == ["id", "spend", "city"]
    assert table.frame["city"].tolist() == ["Zürich", "München", "O’Brien"]


def test_each_byte_of_a_broken_sequence_is_repaired_on_its_own(tmp_path):
    # "€" cut short (E2 82, no third byte) before a comma: two stray bytes, two characters.
    data = "id,spend,city,x\n1,1,Zürich,\n".encode() + b"2,2,\xe2\x82,\n"
    table = read_table(write(tmp_path, "t.csv", data))
    assert table.repaired_bytes == 2
    assert table.frame["city"].tolist() == ["Zürich", "â‚"]


def long_header(columns: int, prefix: bytes = b"") -> bytes:
    """A header longer than the 64 KB sample: 100-character names."""
    names = [f"column number {i:05d} ".ljust(100, "x") for i in range(columns)]
    return prefix + (",".join(names) + "\n" + ",".join(["1"] * columns) + "\n").encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (long_header(1_001), "1,001 columns is over the limit of [data] max_columns = 1000"),
        (long_header(1_001, b"\n\n"), "1,001 columns is over the limit"),  # blank lines first
        (  # a doubled quote stays inside its name: the name is 'x",', then 1,001 more
            long_header(1_001, b'"x"",",'),
            "1,002 columns is over the limit",
        ),
        (
            b'id,"' + b"x" * 200_000 + b'"\n1,2\n',
            "a header name is longer than 131,072 characters; is this a CSV table",
        ),
    ],
    ids=["longer-than-the-sample", "after-blank-lines", "after-a-doubled-quote", "one-long-name"],
)
def test_the_whole_header_is_measured_before_it_is_parsed(tmp_path, data, message):
    path = write(tmp_path, "t.csv", data)
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_a_quoted_header_name_may_hold_the_delimiter_a_line_break_and_quotes(tmp_path):
    # 1,000 names, one of them holding five delimiters: 1,000 columns, within the limit.
    names = ["id", '"spend\nin EUR"', '"a ""b"", c,,,,"'] + [f"c{i}" for i in range(997)]
    data = (",".join(names) + "\n" + ",".join(["007"] * 1000) + "\n").encode()
    table = read_table(write(tmp_path, "t.csv", data))
    assert table.frame.shape == (1, 1000)
    assert list(table.frame.columns[:3]) == ["id", "spend\nin EUR", 'a "b", c,,,,']
    assert table.frame.iloc[0, :3].tolist() == ["007", "007", "007"]  # text, as named


def test_blank_lines_before_the_header_are_skipped(tmp_path):
    table = read_table(write(tmp_path, "t.csv", b"\n\nid,spend\n007,1\n"))
    assert list(table.frame.columns) == ["id", "spend"] and table.frame["id"].tolist() == ["007"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
@pytest.mark.parametrize(
    ("second", "same"),
    [
        ("Customer ID ", "the same name once the spaces at their ends are removed"),
        ("Customer ID", "the same name"),  # pandas would call it "Customer ID.1"
    ],
)
def test_names_that_are_the_same_as_written_or_once_trimmed_are_refused(
    tmp_path, fmt, second, same
):
    path = tmp_path / f"t.{fmt}"
    columns = ["Customer ID", second, "spend"]
    if fmt == "csv":
        path.write_text(",".join(columns) + "\n1,2,3\n")
    elif fmt == "xlsx":
        book = openpyxl.Workbook()
        book.active.append(columns)
        book.active.append(["1", "2", "3"])
        book.save(path)
    else:
        pq.write_table(pa.table([["1"], ["2"], ["3"]], names=columns), path)
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value) == (
        f"{path}: columns 'Customer ID' and {second!r} have {same} ('Customer ID'); "
        "rename one of them"
    )


def test_names_that_differ_in_case_stay_two_columns(tmp_path):
    # Roles map to exact names, so "ID" and "id" never meet downstream.
    table = read_table(write(tmp_path, "t.csv", b" id,ID,spend\n1,2,3\n"))
    assert list(table.frame.columns) == ["id", "ID", "spend"]
