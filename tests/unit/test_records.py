import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from reportgen.records import from_plain, to_plain


@dataclass(frozen=True)
class Inner:
    score: float
    note: str | None


@dataclass(frozen=True)
class Outer:
    when: date
    by_id: Mapping[int, Inner]
    pairs: tuple[tuple[float, float], ...]
    names: tuple[str, ...]
    maybe: Inner | None
    counts: dict[str, int]


def test_round_trip_restores_types_keys_and_nan():
    value = Outer(
        when=date(2026, 11, 1),
        by_id={3: Inner(0.5, None), 10: Inner(float("nan"), "x")},
        pairs=((1.0, 2.5),),
        names=("a", "b"),
        maybe=None,
        counts={"k": 4},
    )
    plain = to_plain(value)
    assert plain == {
        "when": "2026-11-01",
        "by_id": {"3": {"score": 0.5, "note": None}, "10": {"score": None, "note": "x"}},
        "pairs": [[1.0, 2.5]],
        "names": ["a", "b"],
        "maybe": None,
        "counts": {"k": 4},
    }
    back = from_plain(Outer, plain)
    assert back.by_id[3] == Inner(0.5, None) and list(back.by_id) == [3, 10]
    assert math.isnan(back.by_id[10].score) and back.by_id[10].note == "x"
    assert back.when == date(2026, 11, 1) and back.pairs == ((1.0, 2.5),)
    assert back.names == ("a", "b") and back.maybe is None and back.counts == {"k": 4}


def test_numpy_values_become_plain_numbers():
    assert to_plain({"a": np.array([1, 2]), "b": np.float64(np.inf), "c": np.int64(3)}) == {
        "a": [1, 2],
        "b": None,
        "c": 3,
    }


def test_a_missing_field_without_a_default_is_an_error():
    with pytest.raises(KeyError):
        from_plain(Inner, {"score": 1.0})


@dataclass(frozen=True)
class Grown:
    """A record that gained fields after files of it were archived."""

    score: float
    params: Mapping[str, str] = field(default_factory=dict)
    unit: str = "orders"


def test_a_field_added_since_the_file_was_written_takes_its_default():
    # A brief.json archived before Fix.params and the number formats existed still loads.
    assert from_plain(Grown, {"score": 2.0}) == Grown(2.0, {}, "orders")
    assert from_plain(Grown, {"score": 2.0, "unit": "items"}).unit == "items"


@dataclass(frozen=True)
class Server:
    host: str
    ca_file: Path | None


@dataclass(frozen=True)
class Settings:
    """A config-like record: paths, dates, tuples, mappings and settings within settings."""

    data: Path
    as_of: date | None
    scale: tuple[float, float]
    columns: Mapping[str, str]
    servers: tuple[Server, ...]


def test_settings_become_json_and_come_back():
    value = Settings(
        data=Path("data/customers.csv"),
        as_of=date(2026, 10, 31),
        scale=(1.0, 5.0),
        columns=MappingProxyType({"spend": "Total Spend"}),
        servers=(Server("smtp.example.com", Path("/etc/ca.pem")), Server("localhost", None)),
    )
    plain = to_plain(value)
    assert plain == {
        "data": "data/customers.csv",
        "as_of": "2026-10-31",
        "scale": [1.0, 5.0],
        "columns": {"spend": "Total Spend"},
        "servers": [
            {"host": "smtp.example.com", "ca_file": "/etc/ca.pem"},
            {"host": "localhost", "ca_file": None},
        ],
    }
    assert json.loads(json.dumps(plain)) == plain
    assert from_plain(Settings, plain) == value
