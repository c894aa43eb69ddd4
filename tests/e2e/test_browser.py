"""The HTML report in a real browser: every chart decodes and nothing is fetched."""

from tests.e2e.browser import needs_chromium, probe
from tests.helpers import run_cli

IMAGES_AND_FETCHES = """{
  images: [...document.images].map(i => [i.alt.length, i.naturalWidth]),
  fetched: performance.getEntriesByType("resource").map(e => e.name),
}"""


@needs_chromium
def test_the_report_renders_in_chromium_without_fetching_anything(tmp_path):
    result = run_cli("run", "--period", "2026-11", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = tmp_path / result.stdout.strip() / "report.html"
    found = probe(page, IMAGES_AND_FETCHES, tmp_path)
    assert len(found["images"]) >= 10
    for alt_length, width in found["images"]:
        assert alt_length > 20 and width > 0  # decoded, and described
    assert found["fetched"] == []
