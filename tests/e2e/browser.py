"""A report opened in real headless Chromium, with a script of the test's own.

The report is shown in a frame of the width asked for (headless Chromium's window is
never narrower than 500 px, wider than a phone), as its own document (`srcdoc`, of the
same origin as the host page). The script runs after it has loaded and ends with an
expression (it may be a promise); its value comes back as JSON, through the title of the
host page of the DOM Chromium dumps (base64, so the HTML serialiser mangles nothing).
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import pytest

IN_CI = bool(os.environ.get("CI"))
"""In CI (.ci/run installs Chromium and axe-core) a missing tool fails the tests that need
it; elsewhere they are skipped, so the suite runs on a machine without them."""


def unavailable(message: str) -> NoReturn:
    """Skip the test for want of `message`'s tool, or fail it in CI (see IN_CI)."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_NO_CHROMIUM = "Chromium is not installed (.ci/run installs it)"
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason=_NO_CHROMIUM)
"""Skips a test without Chromium before it starts; in CI the test runs and `probe` fails it."""

AXE_VERSION = "4.14.1"
"""The axe-core release .ci/run installs from the npm registry (REPORTGEN_AXE_JS may name
another copy of axe.min.js)."""
AXE_JS = Path(
    os.environ.get(
        "REPORTGEN_AXE_JS",
        Path(__file__).parents[2] / ".ci" / "axe" / "node_modules" / "axe-core" / "axe.min.js",
    )
)


def axe_source() -> str:
    """axe-core's script; without it a test that needs it is skipped, or fails in CI."""
    if not AXE_JS.is_file():
        unavailable(
            f"axe-core is not installed at {AXE_JS}: run "
            f"`npm install --prefix .ci/axe axe-core@{AXE_VERSION}` (as .ci/run does)"
        )
    return AXE_JS.read_text()


_RESULT = re.compile(r"<title>PROBE([A-Za-z0-9+/=]*)</title>")


def probe(
    page: Path, script: str, work: Path, width: int = 1280, height: int = 900, prelude: str = ""
) -> Any:
    """Open a copy of `page` at `width` × `height` CSS pixels, run `prelude` (a library)
    and then `script` (an expression) once it has loaded, and return the expression's value.
    Without Chromium the test is skipped, or fails in CI."""
    if CHROMIUM is None:
        unavailable(_NO_CHROMIUM)
    prelude = prelude.replace("</", "<\\/")  # a "</script>" in a string would end the tag
    runner = f"""<script>{prelude}</script><script>
addEventListener("load", async () => {{
  let value;
  try {{ value = await ({script}); }} catch (error) {{ value = {{error: String(error)}}; }}
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  parent.document.title = "PROBE" + btoa(Array.from(bytes, b => String.fromCharCode(b)).join(""));
}});
</script>"""
    framed = page.read_text().replace("</body>", runner + "</body>", 1)
    probed = work / f"probed-{width}.html"
    probed.write_text(
        '<!DOCTYPE html><html><head><title></title></head><body style="margin: 0">'
        f'<iframe style="border: 0; width: {width}px; height: {height}px" '
        f'srcdoc="{html.escape(framed)}"></iframe></body></html>'
    )
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={work / 'profile'}",
            f"--window-size={width + 100},{height + 100}",
            "--virtual-time-budget=30000",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout
    found = _RESULT.search(dom)
    assert found, dom[:500]
    return json.loads(base64.b64decode(found.group(1)))
