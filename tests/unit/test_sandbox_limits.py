"""The sandboxes bound what `*` and `**` build: a persona description, a chart's wording
or a user's report template reading `{{ 'x' * 10**8 }}` once wrote a 100 MB brief after
three minutes (10**9 exhausted memory); now it is a one-line error naming the text."""

from __future__ import annotations

import pytest
import yaml
from jinja2.exceptions import SecurityError

from reportgen import templating
from reportgen.config import parse
from reportgen.formatting import Formatter
from reportgen.resources import templates_dir
from reportgen.templating import MAX_REPEAT, sandbox
from tests.helpers import run_cli

BOMB = "{{ 'x' * 10**8 }}"


@pytest.fixture(scope="module", params=["personas", "report"])
def environment(request):
    if request.param == "personas":
        return sandbox(Formatter())
    return templating.environment(parse({}), Formatter())


@pytest.mark.parametrize(
    "source",
    [
        BOMB,
        "{{ 10**8 * 'x' }}",
        "{{ ['x'] * 10**6 }}",
        "{{ 'ab' * 50001 }}",
        "{{ 10 ** 101 }}",
        "{{ 2 ** 1000 }}",
        "{{ 0.5 ** -400 }}",
        "{{ (10 ** 50) ** 3 }}",
    ],
)
def test_a_repetition_or_power_beyond_the_limit_is_a_security_error(environment, source):
    with pytest.raises(SecurityError):
        environment.from_string(source).render()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ 'ab' * 3 }}", "ababab"),
        ("{{ 3 * 'ab' }}", "ababab"),
        ("{{ ('-' * 100000) | length }}", str(MAX_REPEAT)),
        ("{{ [0] * 2 }}", "[0, 0]"),
        ("{{ 2.5 * 4 }}", "10.0"),
        ("{{ 2 ** 10 }}", "1024"),
        ("{{ 10 ** 100 == 10 ** 100 }}", "True"),
        ("{{ 1 ** 10**9 }}", "1"),
        ("{{ 0.5 ** 3 }}", "0.125"),
    ],
)
def test_ordinary_arithmetic_still_works(environment, source, expected):
    assert environment.from_string(source).render() == expected


def test_a_persona_library_whose_description_repeats_a_string_is_one_error(tmp_path):
    """`reportgen run` with `[report] personas = "p.yaml"` whose descriptions are the bomb:
    exit 2 and one line naming the library and the persona, within seconds, no brief."""
    document = yaml.safe_load((templates_dir() / "personas.yaml").read_text(encoding="utf-8"))
    for entry in document["personas"]:
        entry["description"] = BOMB
    document["traits"]["fallback_description"] = BOMB
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    (tmp_path / "reportgen.toml").write_text('[report]\npersonas = "p.yaml"\n', encoding="utf-8")
    result = run_cli("run", "--period", "2026-11", cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "p.yaml" in lines[0] and "SecurityError" in lines[0]
    assert "description" in lines[0]  # the persona's field: "<key>.description"
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("output/**/report.pdf"))


def test_a_user_report_template_that_repeats_a_string_is_one_error(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "report.html.j2").write_text(
        '{% extends "default/report.html.j2" %}{% block cover %}' + BOMB + "{% endblock %}",
        encoding="utf-8",
    )
    (tmp_path / "reportgen.toml").write_text('[report]\ntemplates = "mine"\n', encoding="utf-8")
    result = run_cli("run", "--period", "2026-11", cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "report.html.j2" in lines[0] and "SecurityError" in lines[0]
