"""Where the bundled templates and sample data are.

In a wheel they are copied into `reportgen/_bundled/` (see the force-include in
pyproject.toml); in a source checkout, editable install or not, they sit at the
top of the repository. Both layouts go through this one lookup, so a command
behaves the same from any directory.
"""

import hashlib
import json
from pathlib import Path

from reportgen.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE / "_bundled", _PACKAGE.parent)


def _bundled(relative: str) -> Path:
    for root in _CANDIDATES:
        path = root / relative
        if path.exists():
            return path
    searched = ", ".join(str(root / relative) for root in _CANDIDATES)
    raise FileNotFoundError(f"reportgen is installed without its {relative} (looked in {searched})")


def check_user_templates(folder: Path) -> None:
    """Refuse a `[report] templates` folder that is not one, or that holds a template that
    is not a regular file: Jinja passes over such a template and takes the default, so a
    pipe or a device link named report.html.j2 would be ignored without a word."""
    if not folder.is_dir():
        raise ConfigError(f"[report] templates: {folder} is not a folder")
    for entry in sorted(folder.glob("*.j2")):
        if not entry.is_file():
            raise ConfigError(
                f"[report] templates: {entry} is not a regular file (a folder, pipe or device)"
            )


def templates_dir() -> Path:
    """The default template set."""
    return _bundled("templates")


def sample_data_path() -> Path:
    """The bundled sample customer table, used when `run` is given no data."""
    return _bundled("data/sample_customers.csv")


def find_template(name: str, user_dir: Path | None) -> Path:
    """A template file by name: the user's folder first, then the default set."""
    # Whatever stands there is the user's (a link to a device too, refused when read),
    # never silently passed over for the default.
    if user_dir is not None and ((user_dir / name).exists() or (user_dir / name).is_symlink()):
        return user_dir / name
    return templates_dir() / name


def fingerprint(user_dir: Path | None, personas: Path | None) -> dict[str, object]:
    """sha256 of every template file a report can be drawn with, and of all of them together.

    Recorded in the manifest so that a reader can tell which wording and layout a
    snapshot's report was rendered with, and whether a re-render changed them.
    """
    folders = [("default", templates_dir())]
    if user_dir is not None and user_dir.is_dir():
        folders.append(("custom", user_dir))
    files = {
        f"{label}/{path.relative_to(folder).as_posix()}": _sha256(path)
        for label, folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    if personas is not None and personas.is_file():
        files[f"personas/{personas.name}"] = _sha256(personas)
    combined = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    return {"sha256": combined, "files": files}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
