"""Templates receive plain data only: no object whose methods reach files or Python.

Every template a user or the data can influence — the email subject and bodies, persona
descriptions, chart wording and the report itself, default or custom — is rendered
from a context of strings, numbers, booleans, None, lists and mappings. The first test
records every context a whole run and a dry-run send hand to Jinja and walks them; the
others try the payloads that reached the file system through a live Path.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from reportgen import deliver, pipeline
from reportgen.config import parse
from reportgen.errors import ConfigError
from reportgen.plain import is_plain, plain
from tests.reliability.helpers import GENERATED, PERIOD, run_in_process, sample_table

EMAIL = {
    "from": "reports@example.com",
    "to": ["ann@example.com"],
    "subject": "{{ title }} {{ period }} {{ report.title }} {{ generated }}",
    "security": "none",
}


def test_every_template_context_of_a_run_and_a_send_is_plain_data(tmp_path, monkeypatch):
    seen: list[dict] = []
    render = jinja2.Template.render

    def recording(self, *args, **kwargs):
        seen.append(dict(*args, **kwargs))
        return render(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", recording)
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    config = parse(
        {"report": {"logo": str(logo), "company": "Acme"}, "email": EMAIL},
        source=tmp_path / "reportgen.toml",
    )
    result = run_in_process(sample_table(), tmp_path, config)
    deliver.send(tmp_path / "output", config.report.slug, PERIOD, config, dry_run=True)
    kinds = {
        "report": [c for c in seen if "charts" in c and "segments" in c],
        "email": [c for c in seen if "attachment" in c],
        "persona": [c for c in seen if "segment" in c and "spend" in c],
        "chart": [c for c in seen if "roles" in c or "role" in c],
    }
    assert {name: bool(found) for name, found in kinds.items()} == dict.fromkeys(kinds, True)
    assert len(seen) >= 3 + len(result.brief.personas.segments)
    for context in seen:
        assert is_plain(context), [k for k, v in context.items() if not is_plain(v)]


def test_plain_refuses_what_it_does_not_know():
    class Live:
        def write_text(self, text: str) -> None: ...

    with pytest.raises(TypeError, match="Live is not plain data"):
        plain({"x": [Live()]})
    assert plain({1: (Path("/a/b"), GENERATED)}) == {1: ["/a/b", "2026-11-28"]}
    assert not is_plain({"p": Path("/a")}) and not is_plain((1, 2))


WRITE = "{{ report.logo.parent.joinpath('x').write_text('y') }}"
READ = "{{ report.logo.read_text() }}"


@pytest.mark.parametrize("payload", [WRITE, READ, "{{ report.__class__.__mro__ }}"])
def test_the_subject_cannot_reach_the_file_system(tmp_path, payload):
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    config = parse(
        {"report": {"logo": str(logo)}, "email": {**EMAIL, "subject": payload}},
        source=tmp_path / "reportgen.toml",
    )
    run_in_process(sample_table(), tmp_path, parse({"report": {"logo": str(logo)}}))
    with pytest.raises(ConfigError, match=r"\[email\] subject"):
        deliver.send(tmp_path / "output", config.report.slug, PERIOD, config, dry_run=True)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("payload", [WRITE, "{{ segments[0].profile.__class__ }}"])
def test_a_custom_report_template_cannot_reach_the_file_system(tmp_path, payload):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "report.html.j2").write_text(
        '{% extends "default/report.html.j2" %}{% block definitions %}' + payload + "{% endblock %}"
    )
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    config = parse({"report": {"templates": str(folder), "logo": str(logo)}})
    table = sample_table()
    table.to_csv(tmp_path / "data.csv", index=False)
    with pytest.raises(ConfigError, match="report template"):
        pipeline.run(
            tmp_path / "data.csv",
            config,
            pipeline.Destination(tmp_path / "output", PERIOD),
            generated=GENERATED,
        )
    assert not (tmp_path / "x").exists() and not (tmp_path / "output" / "brief").exists()
