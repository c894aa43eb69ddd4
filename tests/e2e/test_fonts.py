"""The PDF is set in the brief's own font: the same file on a machine with DejaVu
installed and on one with no font at all (point 6 of issue 16)."""

from __future__ import annotations

import re
from pathlib import Path

from pypdf import PdfReader

from tests.helpers import run_process

NO_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>{empty}</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def _brief(folder: Path, env: dict[str, str] | None = None) -> Path:
    folder.mkdir()
    result = run_process("run", "--period", "2026-11", "--k", "3", "--quiet", cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    return folder / result.stdout.strip() / "report.pdf"


def _without_dates(pdf: Path) -> bytes:
    return re.sub(rb"/(CreationDate|ModDate) \(D:[^)]*\)", b"", pdf.read_bytes())


def _fonts(pdf: Path) -> set[str]:
    names = set()
    for page in PdfReader(pdf).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def test_the_pdf_is_the_same_with_the_systems_fonts_and_with_none(tmp_path):
    """fontconfig pointed at an empty folder: the machine has no font at all (before the
    font was bundled, WeasyPrint failed there; with another DejaVu installed, the PDF
    embedded that one)."""
    (tmp_path / "empty").mkdir()
    config = tmp_path / "fonts.conf"
    config.write_text(NO_FONTS.format(empty=tmp_path / "empty", cache=tmp_path / "cache"))
    installed = _brief(tmp_path / "installed")
    bare = _brief(tmp_path / "bare", env={"FONTCONFIG_FILE": str(config)})
    assert _fonts(installed) == {"reportgen-DejaVu-Sans", "reportgen-DejaVu-Sans-Bold"}
    assert _without_dates(installed) == _without_dates(bare)
