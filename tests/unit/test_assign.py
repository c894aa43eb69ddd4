"""`assign`'s own pieces: distances on hand-made points, and where it may write."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.assign import check_destination, nearest_distances
from reportgen.errors import ConfigError


def test_each_point_gets_its_distance_to_the_nearest_centre() -> None:
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    points = np.array([[3.0, 4.0], [10.0, 1.0], [5.0, 0.0], [-6.0, -8.0]])
    assert nearest_distances(points, centres).tolist() == [5.0, 1.0, 5.0, 10.0]


def test_the_archive_is_refused_as_written_and_through_a_linked_period(tmp_path) -> None:
    out = tmp_path / "out"
    (out / "report").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (out / "report" / "2026-11").symlink_to(tmp_path / "elsewhere")  # a period kept elsewhere
    for inside in (
        out / "report" / "2026-11" / "labels.csv",
        out / ".." / "out" / "labels.csv",
        out / "labels.parquet",
    ):
        with pytest.raises(ConfigError, match="inside the archive"):
            check_destination(inside, out, force=True)
    check_destination(tmp_path / "labels.csv", out, force=False)  # beside it: fine


def test_an_existing_file_needs_force_and_the_kind_must_be_known(tmp_path) -> None:
    out, target = tmp_path / "out", tmp_path / "labels.csv"
    target.write_text("x")
    with pytest.raises(ConfigError, match="--force"):
        check_destination(target, out, force=False)
    check_destination(target, out, force=True)
    with pytest.raises(ConfigError, match=r"\.csv or a \.parquet"):
        check_destination(tmp_path / "labels.xlsx", out, force=True)
