"""Where the bundled templates and sample data are.

In a wheel they are copied into `reportgen/_bundled/` (see the force-include in
pyproject.toml); in a source checkout, editable install or not, they sit at the
top of the repository. Both layouts go through this one lookup, so a command
behaves the same from any directory.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE / "_bundled", _PACKAGE.parent)


def _bundled(relative: str) -> Path:
    for root in _CANDIDATES:
        path = root / relative
        if path.exists():
            return path
    searched = ", ".join(str(root / relative) for root in _CANDIDATES)
    raise FileNotFoundError(f"reportgen is installed without its {relative} (looked in {searched})")


def templates_dir() -> Path:
    """The default template set."""
    return _bundled("templates")


def sample_data_path() -> Path:
    """The bundled sample customer table, used when `run` is given no data."""
    return _bundled("data/sample_customers.csv")


def find_template(name: str, user_dir: Path | None) -> Path:
    """A template file by name: the user's folder first, then the default set."""
    if user_dir is not None and (user_dir / name).is_file():
        return user_dir / name
    return templates_dir() / name
