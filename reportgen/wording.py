"""Wording in the reader's language: the one translation mechanism of the brief.

English is the source language: every piece of wording is written in English where it
lives (the Jinja templates, charts.yaml, personas.yaml, and the few Python strings
marked `N_("…")` / `Nn_("…", "…")`), and that English text is the message id. A
language is a folder of gettext catalogues, `locale/<language>/*.po`, beside the
templates; every PO file of the folder is read and merged (report.po, charts.po,
email.po, personas.po, python.po), and a user's template folder (`[report] templates`)
may carry its own `locale/<language>/*.po`, whose translations win. PO files are
compiled when a brief is drawn (no .mo file is kept), so editing a translation needs no
build step.

- Templates use Jinja's i18n extension: `{% trans %}…{% endtrans %}` and `_("…")`.
- Persona library and chart wording are looked up by their exact English text as loaded
  from YAML (whitespace collapsed); a persona description or chart alt text is a Jinja
  template source, so the source is translated and the translation compiled. Text with
  no translation (a user's own library) stays as written.
- A locale with no catalogue keeps the English wording and the locale's number formats,
  and says so once (`Wording.notice`).

`python -m reportgen.wording update de` extracts every message id and updates the PO
files of a language (new ones empty, changed ones fuzzy, existing translations kept):
that is how a language is added or kept current.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import NullTranslations, Translations


def N_(message: str) -> str:
    """Mark `message` as wording to translate where it is shown, not where it is written."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair of wording, translated with ngettext where it is shown."""
    return singular, plural


PLURAL = "plural"
"""The parameter of a stored sentence that holds its plural message id (see phrases)."""
LOCALE_FOLDER = "locale"
SOURCE_LANGUAGE = "en"
JINJA_OPTIONS = {"trimmed": "true", "trim_blocks": "true", "lstrip_blocks": "true"}
"""The i18n settings of the template environments, also used to extract their messages:
trimmed `{% trans %}` blocks, so a line break in a template is not part of a message."""
_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Nn_": (1, 2)}
_OTHER = re.compile(r"Other \((\d+) values?\)")
OTHER = Nn_("Other (%(num)s value)", "Other (%(num)s values)")
"""How categories.other_label's bucket ("Other (3 values)", a key of the data) reads."""

LEVELS = {
    "high": N_("high"),
    "typical": N_("typical"),
    "low": N_("low"),
    "recent": N_("recent"),
    "lapsed": N_("lapsed"),
    "lost": N_("lost"),
}
"""The level names a profile gives each role (profile.py), as the report shows them."""
DEFAULT_TITLE = N_("Customer segments")
"""[report] title's default, translated when the title was left at it."""


def collapse(text: str) -> str:
    """Whitespace collapsed: how YAML wording is keyed (a folded line break is not wording)."""
    return " ".join(text.split())


def language_of(locale: str) -> str:
    """ "de_DE" -> "de"; "pt-BR" -> "pt"."""
    return locale.replace("-", "_").split("_")[0].split(".")[0].lower()


@dataclass(frozen=True)
class Wording:
    """The translations of one locale, with the lookups every stage uses."""

    locale: str = "en_US"
    language: str = SOURCE_LANGUAGE
    """The language the wording is in: the catalogue's, or "en" when there is none."""
    translations: NullTranslations = field(default_factory=NullTranslations)
    notice: str | None = None
    """Said once on the terminal when the locale has no catalogue."""

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def has(self, message: str) -> bool:
        """True when `message` has a translation here (always False in English)."""
        return self.language != SOURCE_LANGUAGE and self.gettext(message) != message

    def text(self, source: str) -> str:
        """YAML wording (a name, or a template's source) in this language; unchanged when the
        catalogue has no entry for it (a user's own wording)."""
        key = collapse(source)
        found = self.gettext(key)
        return found if found != key else source

    def data(self, value: Any) -> str:
        """A value from the data as shown: the "Other (N values)" bucket is translated."""
        text = str(value)
        match = _OTHER.fullmatch(text)
        if match is None:
            return text
        count = int(match.group(1))
        return self.ngettext(*OTHER, count) % {"num": count}

    def phrases(self, parts: Iterable[Any], number: Callable[[Any], str] = str) -> str:
        """Sentences stored as (message id, parameters), e.g. a segmentation's reason, in
        this language. A parameter that is a number is formatted by `number`, a list of
        message ids is joined ("a, b and c"), a text is looked up as a message id. A
        message with a plural form (marked Nn_) keeps it in the parameter PLURAL, and its
        number in "count"."""
        out = []
        for message, params in parts:
            values = {
                key: self._value(value, number) for key, value in params.items() if key != PLURAL
            }
            if PLURAL in params:  # a count before a noun: the plural form its number needs
                text = self.ngettext(message, params[PLURAL], int(params["count"]))
            else:
                text = self.gettext(message)
            out.append(text % values if values else text)
        return "".join(out)

    def _value(self, value: Any, number: Callable[[Any], str]) -> str:
        if isinstance(value, bool) or value is None:
            return str(value)
        if isinstance(value, int | float):
            return number(value)
        if isinstance(value, list | tuple):
            items = [self.gettext(str(item)) for item in value]
            if len(items) <= 1:
                return "".join(items)
            return self.gettext(N_("%(items)s and %(last)s")) % {
                "items": ", ".join(items[:-1]),
                "last": items[-1],
            }
        return self.gettext(str(value))


ENGLISH = Wording()


def catalogue_folders(language: str, user_dir: Path | None = None) -> list[Path]:
    """Where a language's PO files are, weakest first: the default set, then the user's."""
    from reportgen.resources import templates_dir

    roots = [templates_dir()] + ([user_dir] if user_dir is not None else [])
    return [root / LOCALE_FOLDER / language for root in roots]


def _candidates(locale: str) -> list[str]:
    """The catalogue folders tried for a locale, most specific first: de_DE, then de."""
    normal = locale.replace("-", "_").split(".")[0]
    language = language_of(locale)
    return list(dict.fromkeys([normal, language]))


def _po_files(folder: Path) -> list[Path]:
    """Every PO file of a folder; read_catalogue refuses one that is not a regular file."""
    return sorted(folder.glob("*.po")) if folder.is_dir() else []


def language_for(locale: str = "en_US", user_dir: Path | None = None) -> str:
    """The language the wording of `locale` is in, without compiling it: the language of
    the first catalogue folder that has PO files ("de" for de_CH), else English."""
    locale = locale or "en_US"
    for name in _candidates(locale):
        if any(_po_files(folder) for folder in catalogue_folders(name, user_dir)):
            return language_of(locale)
    return SOURCE_LANGUAGE


def load(locale: str = "en_US", user_dir: Path | None = None) -> Wording:
    """The wording of `locale`: its catalogues merged (default set, then the user's), or
    English with a notice when there is none. English needs no catalogue, but a user's
    `locale/en/*.po` may reword the default English."""
    locale = locale or "en_US"
    files: list[Path] = []
    found_language = None
    for name in _candidates(locale):
        for folder in catalogue_folders(name, user_dir):
            found = _po_files(folder)
            if found:
                files += found
                found_language = found_language or name
        if files:
            break
    language = language_of(locale)
    if not files:
        if language == SOURCE_LANGUAGE:
            return Wording(locale=locale)
        return Wording(
            locale=locale,
            notice=(
                f"no translation of the brief for {locale} (no catalogue "
                f"locale/{language}/*.po); the wording stays in English, numbers follow "
                f"{locale}"
            ),
        )
    return Wording(locale=locale, language=language, translations=compile_catalogues(files))


def read_catalogue(path: Path, language: str | None = None) -> Catalog:
    """A PO file, refused in one line when it is not a small regular file (a pipe or a
    link to a device would hang the run) or does not parse."""
    from reportgen.errors import ConfigError
    from reportgen.fsutil import read_small

    data = read_small(path, "translation catalogue")
    try:
        return read_po(io.BytesIO(data), locale=language, abort_invalid=True)
    except Exception as exc:  # Babel raises several kinds for a broken catalogue
        raise ConfigError(f"translation catalogue {path}: {exc}") from None


_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]")
_CLIP = 60


def placeholders(text: str) -> tuple[frozenset[str], int]:
    """The named `%(x)s` placeholders of a message and its count of bare ones (`%s`);
    `%%` is a literal percent sign."""
    names, bare = set(), 0
    for found in _PLACEHOLDER.finditer(text.replace("%%", "")):
        if found.group(1):
            names.add(found.group(1))
        else:
            bare += 1
    return frozenset(names), bare


def _describe(names: Iterable[str], bare: int) -> str:
    found = [f"%({name})s" for name in sorted(names)] + ["%s"] * bare
    return ", ".join(found)


def check_placeholders(message: Any, path: Path) -> None:
    """Refuse a translation whose placeholders are not the English text's: a `%(foo)s`
    the English has not (a KeyError when the brief is drawn, blamed on the template), or
    a missing or extra bare `%s`. A plural form may take those of either English form."""
    from reportgen.errors import ConfigError

    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    wanted = [placeholders(text) for text in ids]
    for form, text in enumerate(strings):
        names, bare = placeholders(text)
        if (names, bare) in wanted:
            continue
        english_names, english_bare = wanted[-1]
        singular = len(wanted) > 1 and form == 0
        if singular and names <= english_names and bare <= english_bare:
            continue  # a singular form that leaves the number out ("ein Kunde")
        extra = _describe(names - english_names, max(bare - english_bare, 0))
        missing = _describe(english_names - names, max(english_bare - bare, 0))
        difference = "; ".join(
            part
            for part in (
                f"the translation has {extra}, which the English has not" if extra else "",
                f"it lacks {missing}" if missing else "",
            )
            if part
        )
        clipped = ids[0] if len(ids[0]) <= _CLIP else ids[0][: _CLIP - 1] + "…"
        raise ConfigError(
            f"translation catalogue {path}: msgid {clipped!r}: placeholders differ: {difference}"
        )


def compile_catalogues(files: Iterable[Path]) -> Translations:
    """PO files merged in order (a later file's translation wins) and compiled in memory.
    Fuzzy and empty translations are left out: their English stays. A translation whose
    placeholders differ from its English text's is refused, naming the file and message."""
    merged: Catalog | None = None
    for path in files:
        catalogue = read_catalogue(path)
        if merged is None:
            merged = Catalog(locale=catalogue.locale, domain="reportgen")
        for message in catalogue:
            if not message.id or message.fuzzy:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                continue
            check_placeholders(message, path)
            merged.delete(message.id)
            merged.add(message.id, message.string)
    buffer = io.BytesIO()
    write_mo(buffer, merged or Catalog(), use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


# -- extraction: every message id of the default wording ------------------------------

DOMAINS = {
    "report": (
        "report.html.j2",
        "report.css.j2",
        "rule.txt.j2",
        "since.txt.j2",
        "index.html.j2",
    ),
    "email": ("email.html.j2", "email.txt.j2", "failure.txt.j2"),
    "charts": ("charts.yaml",),
    "personas": ("personas.yaml",),
    "python": (),
}
"""Which PO file of a language holds which source's messages."""
_PERSONA_TEXTS = ("name", "description")
_TRAIT_TEXTS = ("typical_name", "small_name", "also", "fallback_description")


@dataclass(frozen=True)
class Message:
    id: str | tuple[str, ...]
    """The text, or its singular and plural."""
    where: str
    """file:line, or file:yaml.path."""


def _jinja(path: Path) -> Iterator[Message]:
    from babel.messages.extract import extract

    with path.open("rb") as handle:
        for line, message, _comments, _context in extract(
            "jinja2.ext:babel_extract", handle, keywords=_KEYWORDS, options=JINJA_OPTIONS
        ):
            yield Message(message, f"{path.name}:{line}")


def _python(path: Path) -> Iterator[Message]:
    from babel.messages.extract import extract

    keywords = {"N_": None, "Nn_": (1, 2)}
    with path.open("rb") as handle:
        for line, message, _comments, _context in extract("python", handle, keywords=keywords):
            yield Message(message, f"reportgen/{path.name}:{line}")


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value.strip():
            yield collapse(value), where
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i + 1}]")


def yaml_messages(path: Path) -> Iterator[Message]:
    """The wording of charts.yaml (every text) or personas.yaml (names, descriptions,
    recommendations and trait words: not keys, levels or claims)."""
    from reportgen import yamlfile

    document = yamlfile.load(path, "wording")
    personas = path.name == "personas.yaml"
    pairs = _persona_strings(document) if personas else _strings(document, "")
    for text, where in pairs:
        yield Message(text, f"{path.name}:{where.lstrip('.')}")


def _persona_strings(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for i, entry in enumerate(document.get("personas") or []):
        key = entry.get("key", i + 1)
        for name in _PERSONA_TEXTS:
            yield from _strings(entry.get(name), f"{key}.{name}")
        yield from _strings(entry.get("recommendations"), f"{key}.recommendations")
    traits = document.get("traits") or {}
    for role, words in traits.items():
        if role in _TRAIT_TEXTS or role == "fallback_recommendations" or isinstance(words, dict):
            yield from _strings(words, f"traits.{role}")


def extract_messages(
    templates: Path | None = None, package: Path | None = None
) -> dict[str, list[Message]]:
    """Every message id of the wording, by PO file: templates (Jinja), charts.yaml and
    personas.yaml, and the Python strings marked N_ / Nn_."""
    from reportgen.resources import templates_dir

    templates = templates or templates_dir()
    package = package or Path(__file__).resolve().parent
    found: dict[str, list[Message]] = {}
    for domain, names in DOMAINS.items():
        messages: list[Message] = []
        for name in names:
            path = templates / name
            if not path.is_file():
                continue
            messages += list(_jinja(path) if name.endswith(".j2") else yaml_messages(path))
        if domain == "python":
            for path in sorted(package.glob("*.py")):
                messages += list(_python(path))
        found[domain] = messages
    return found


def template_catalogue(messages: Iterable[Message], language: str | None = None) -> Catalog:
    catalogue = Catalog(locale=language, project="reportgen", domain="reportgen")
    for message in messages:
        existing = catalogue.get(message.id)
        file, _, line = message.where.partition(":")
        location = (file, int(line) if line.isdigit() else None)  # a YAML path: no line
        # Babel annotates a location's line as int, yet stores None itself (read_po) for a
        # location without one, and writes it as the file alone.
        if existing is not None:
            existing.locations.append(location)  # type: ignore[arg-type]
            continue
        catalogue.add(message.id, locations=[location])  # type: ignore[list-item]
    return catalogue


def update(language: str, templates: Path | None = None) -> dict[str, tuple[int, int, int]]:
    """Bring `locale/<language>/*.po` up to date with the wording: new message ids are added
    untranslated, changed ones kept as fuzzy suggestions, gone ones dropped; existing
    translations stay. Returns file -> (translated, fuzzy, untranslated)."""
    from reportgen.resources import templates_dir

    templates = templates or templates_dir()
    folder = templates / LOCALE_FOLDER / language
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for domain, messages in extract_messages(templates).items():
        path = folder / f"{domain}.po"
        template = template_catalogue(messages)
        if path.exists():
            catalogue = read_catalogue(path, language)
        else:
            catalogue = Catalog(locale=language, project="reportgen", domain="reportgen")
        catalogue.update(template, update_creation_date=False)
        catalogue.obsolete.clear()
        with path.open("wb") as handle:
            write_po(handle, catalogue, width=0, omit_header=False, include_previous=True)
        messages_ = [m for m in catalogue if m.id]
        fuzzy = sum(m.fuzzy for m in messages_)
        empty = sum(
            not all(m.string if isinstance(m.string, tuple) else (m.string,)) for m in messages_
        )
        counts[path.name] = (len(messages_) - fuzzy - empty, fuzzy, empty)
    return counts


def main(argv: list[str] | None = None) -> int:
    """`python -m reportgen.wording update LANGUAGE [TEMPLATE_FOLDER]`: a maintainer's tool."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3) or args[0] != "update":
        print("usage: python -m reportgen.wording update LANGUAGE [TEMPLATE_FOLDER]")
        return 2
    templates = Path(args[2]) if len(args) == 3 else None
    for name, (done, fuzzy, empty) in update(args[1], templates).items():
        print(f"{name}: {done} translated, {fuzzy} fuzzy, {empty} untranslated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
