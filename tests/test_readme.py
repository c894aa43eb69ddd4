"""The README's two set-up commands are the ones the project actually supports."""

import re

from tests.helpers import REPO


def setup_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_exactly_two_setup_commands_and_ci_runs_the_test_one():
    run_command, test_command = setup_commands()
    assert run_command.endswith("reportgen run")
    assert test_command.endswith("pytest")
    ci = (REPO / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()
