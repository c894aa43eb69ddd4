"""The house rules, checked like behaviour: lint, types and short procedures."""

import ast
import subprocess
import sys

from tests.helpers import REPO

LONGEST_FUNCTION = 60
"""Lines, docstring included: a procedure longer than a screen is split (ruff's
complexity rules in pyproject.toml count branches and statements, not lines)."""


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_ruff_is_clean():
    result = _run("ruff", "check", "--no-cache", str(REPO))
    assert result.returncode == 0, result.stdout + result.stderr


def test_types_check_strictly():
    """mypy --strict over reportgen/ (configured in pyproject.toml), stubs included."""
    result = _run("mypy", "--no-incremental", "--cache-dir", "/dev/null")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_function_is_longer_than_a_screen():
    long = []
    for path in sorted((REPO / "reportgen").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > LONGEST_FUNCTION:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long
