"""The oldest versions CI tests against are exactly the lower bounds pyproject.toml
declares: a bound nobody tests is a promise nobody keeps (pandas 2.2 was declared
while reading a CSV with it turned the id "007" into "7")."""

import re
import tomllib

from packaging.version import Version

from tests.helpers import REPO


def lower_bounds() -> dict[str, Version]:
    """Each runtime dependency's declared lower bound, by lower-case package name."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = {}
    for spec in declared:
        found = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([\w.]+)", spec)
        assert found, f"{spec}: every dependency needs a lower bound"
        bounds[found.group(1).lower()] = Version(found.group(2))
    return bounds


def test_every_lower_bound_is_pinned_in_the_oldest_versions_ci_tests():
    pinned = {}
    for line in (REPO / ".ci" / "oldest.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pinned[name.strip().lower()] = Version(version)
    assert pinned == lower_bounds()
