"""The HTML report in a real browser: every chart decodes and nothing is fetched."""

import json
import re
import shutil
import subprocess

import pytest

from tests.conftest import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE = """<script>
addEventListener("load", () => {
  const images = [...document.images].map(i => [i.alt.length, i.naturalWidth]);
  const fetched = performance.getEntriesByType("resource").map(e => e.name);
  document.title = "PROBE" + JSON.stringify({images, fetched});
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_the_report_renders_in_chromium_without_fetching_anything(tmp_path):
    result = run_cli("run", "--period", "2026-11", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / result.stdout.strip() / "report.html").read_text()
    probed = tmp_path / "probed.html"
    probed.write_text(html.replace("</body>", PROBE + "</body>"))
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.search(r"<title>PROBE(.*?)</title>", dom)
    assert found, dom[:500]
    probe = json.loads(found.group(1).replace("&quot;", '"'))
    assert len(probe["images"]) >= 10
    for alt_length, width in probe["images"]:
        assert alt_length > 20 and width > 0  # decoded, and described
    assert probe["fetched"] == []
