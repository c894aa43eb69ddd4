"""The Jinja environments, and the one way a template a user can edit is filled.

Two environments, both sandboxed, because every template is text a user can replace
(a third, `config_file`, fills the bundled template of `reportgen init`):
- `environment`: the report's and the email's, looked up through a chain: the user's
  folder (`[report] templates`) first, then the default set, which is also reachable as
  `default/<name>` so a user template can extend the default one and override a single
  block. HTML is autoescaped; `{% trans %}` and `_()` speak the reader's language.
- `sandbox`: plain-text templates from a string: persona descriptions, chart titles and
  alt text, the email's subject.

Both bound what `*` and `**` can build (LimitedSandbox), and `render_user` turns
whatever a user's template can raise into one ConfigError naming it.
"""

from __future__ import annotations

import base64
import math
import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
import markupsafe
from jinja2.exceptions import SecurityError
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment

from reportgen.config import Config
from reportgen.config_text import toml_value
from reportgen.errors import ConfigError
from reportgen.formatting import Formatter
from reportgen.resources import check_user_templates, templates_dir
from reportgen.wording import ENGLISH, LEVELS, Wording

MAX_REPEAT = MAX_RANGE
"""The longest string or list a sandboxed template may build with `*` (100,000 items or
characters, as many as Jinja's sandbox lets `range` make)."""
MAX_POWER = 1e100
"""The largest magnitude a sandboxed template may compute with `**`."""
_FIGURE = re.compile(r"-?\d+(\.\d+)?")
"""A parameter of a data-quality fix that is a figure ("4.1"), written in the reader's way."""

TEMPLATE_FAILURES: tuple[type[Exception], ...] = (
    jinja2.TemplateError,  # bad syntax, an undefined name, a missing file, SecurityError
    ArithmeticError,  # 1 / 0, range(10**9) (OverflowError), a float past its range
    LookupError,  # a missing key or index inside a filter (an unknown role)
    AttributeError,  # a filter given a value without what it reads: 1 | dictsort, 1 | figures
    TypeError,  # an operator or filter given the wrong kind of value: 'a' + 1, 'x' | money
    ValueError,  # a filter given a value of the right kind it cannot read
    RecursionError,  # a macro that calls itself without end
    OSError,  # a template file of the user's folder that cannot be read
    MemoryError,  # 'x' | center(10**12): a string too large to make at all
)
"""What filling a user's template can raise when the template is at fault: reported as one
line naming the template (exit 2). A template can hand any value to any filter, so a
TypeError or an AttributeError here is the template's; what stays outside (a
RuntimeError, an AssertionError, an ImportError) says reportgen is broken and keeps its
traceback."""


def render_user(
    template: jinja2.Template | Callable[[], jinja2.Template],
    context: Mapping[str, Any],
    where: str,
) -> str:
    """`template` filled with `context` (plain data only), or a ConfigError of one line:
    "<where>: <error type>: <message>", plus the file when the error names one (a syntax
    error in an included template). A template that is loaded or compiled here (pass the
    call that does it: `partial(env.get_template, name)`) has its syntax errors and a
    missing file reported the same way as a failure while it renders."""
    try:
        compiled = template if isinstance(template, jinja2.Template) else template()
        return compiled.render(context)
    except TEMPLATE_FAILURES as exc:
        source = getattr(exc, "filename", None)
        place = f"{where} ({source})" if source else where
        raise ConfigError(f"{place}: {type(exc).__name__}: {exc}") from None


def _size(value: Any) -> int | None:
    """The length of a sequence that `*` repeats (text, list, tuple), else None."""
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox that also bounds what `*` and `**` can build: a persona
    description or a user's template reading `{{ 'x' * 10**8 }}` would otherwise write a
    100 MB text after minutes (10**9 exhausts memory). Beyond MAX_REPEAT items or
    MAX_POWER, the template fails with a SecurityError, which render_user reports in one
    line naming the template."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                size = _size(sequence)
                if size is not None and _whole(times) and size * times > MAX_REPEAT:
                    raise SecurityError(
                        f"a repetition of {size * times:,} items is more than the "
                        f"{MAX_REPEAT:,} a template may build"
                    )
        elif operator == "**" and _too_large(left, right):
            raise SecurityError(
                f"a power beyond {MAX_POWER:.0e} is more than a template may compute"
            )
        return super().call_binop(context, operator, left, right)


def _too_large(base: Any, exponent: Any) -> bool:
    """Whether base ** exponent would exceed MAX_POWER in magnitude (judged by logarithms,
    without computing it: 10 ** 10**9 would take minutes)."""
    if not isinstance(base, numbers.Real) or not isinstance(exponent, numbers.Real):
        return False
    try:
        size = abs(float(base))
        power = float(exponent)
    except OverflowError:
        return True
    if size in (0.0, 1.0):
        return False
    if not math.isfinite(size) or not math.isfinite(power):
        return True
    return math.log10(size) * power > math.log10(MAX_POWER)


def sandbox(formatter: Formatter, words: Wording = ENGLISH) -> LimitedSandbox:
    """A Jinja environment for user-editable text templates (plain text, not HTML); `clip`
    shows the "Other (N values)" bucket in the language of `words`. `*` and `**` are
    bounded (LimitedSandbox)."""
    environment = LimitedSandbox(
        undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True
    )
    environment.filters.update(formatter.filters())
    clip = environment.filters["clip"]
    environment.filters["clip"] = lambda value, *args: clip(words.data(value), *args)
    return environment


def environment(
    config: Config, formatter: Formatter, words: Wording = ENGLISH
) -> jinja2.Environment:
    """The report's and email's Jinja environment: user folder, then defaults; autoescaped;
    `{% trans %}` and `_()` translated into the language of `words`."""
    default = jinja2.FileSystemLoader(templates_dir())
    chain: list[jinja2.BaseLoader] = []
    if config.report.templates is not None:
        check_user_templates(config.report.templates)
        chain.append(jinja2.FileSystemLoader(config.report.templates))
    chain += [default, jinja2.PrefixLoader({"default": default})]
    # Sandboxed as well as fed plain data: a custom template is text a user edits; `*`
    # and `**` are bounded, so `{{ 'x' * 10**8 }}` is an error, not a 100 MB brief.
    env = LimitedSandbox(
        loader=jinja2.ChoiceLoader(chain),
        # Everything is HTML and escaped, except plain-text templates (the email's text part).
        autoescape=jinja2.select_autoescape(
            enabled_extensions=(), disabled_extensions=("txt.j2",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters.update(formatter.filters())
    env.filters["data_uri"] = _svg_uri
    env.filters["label"] = _label
    _translate(env, words)
    return env


def config_file() -> jinja2.Template:
    """The config file `reportgen init` writes: TOML, not HTML, so nothing is escaped and
    every value goes through `|toml` instead; always the bundled template, as no config
    (nor a folder of the user's templates) exists yet."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=False,  # noqa: S701 -- TOML; values are written by config_text.toml_value
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["toml"] = toml_value
    return env.get_template("reportgen.toml.j2")


def _translate(env: jinja2.Environment, words: Wording) -> None:
    """Install the wording's translations in a Jinja environment with the i18n extension:
    `_()`, `{% trans %}` (trimmed, as extracted), a `level` filter for profile levels, a
    `phrases` filter for sentences stored as message ids (a segmentation's reason), and
    a `clip` that shows the "Other (N values)" bucket in the reader's language."""
    # The i18n extension adds install_gettext_translations to the environment at run time.
    env.install_gettext_translations(words.translations, newstyle=True)  # type: ignore[attr-defined]
    env.policies["ext.i18n.trimmed"] = True
    clip = env.filters["clip"]
    number = env.filters["number"]
    env.filters["clip"] = lambda value, *args: clip(words.data(value), *args)
    env.filters["level"] = lambda level: words.gettext(LEVELS.get(str(level), str(level)))
    env.filters["phrases"] = lambda parts: words.phrases(parts, number)
    env.filters["figures"] = lambda params: {
        key: number(float(value)) if _FIGURE.fullmatch(str(value)) else value
        for key, value in params.items()
    }
    env.filters["wording"] = words.text
    # A label inside a sentence: lowercased in English ("spend"), kept in languages whose
    # nouns keep their capital ("Umsatz").
    env.filters["inline"] = lambda label: str(label).lower() if words.language == "en" else label


def _svg_uri(chart: Mapping[str, Any]) -> str:
    """A chart (as plain data) as an inline image."""
    return "data:image/svg+xml;base64," + base64.b64encode(chart["svg"].encode()).decode()


def _label(heading: str) -> str:
    """A column heading as one line of plain text: what a phone shows beside each figure
    when a table is laid out as cards (the `data-label` attribute), where "<br>" is a
    space and no markup can be."""
    markup = markupsafe.escape(heading)  # text that is not yet markup is escaped first
    return markupsafe.Markup(" ").join(markup.split(markupsafe.Markup("<br>"))).striptags()
