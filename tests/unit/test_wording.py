"""The translation catalogues: complete, consistent with the English wording, and loaded
the way a brief uses them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from jinja2 import meta

from reportgen import wording
from reportgen.errors import ConfigError
from reportgen.formatting import Formatter
from reportgen.personas import load_library
from reportgen.resources import templates_dir
from reportgen.segment import english
from reportgen.templating import sandbox
from reportgen.wording import LOCALE_FOLDER, N_, Wording, extract_messages, read_catalogue
from tests.helpers import unreadable

_NAMED = re.compile(r"%\((\w+)\)[sd]")
_JINJA = re.compile(r"\{[{%]")
_PARSER = sandbox(Formatter())


def _variables(text: str) -> set[str]:
    """The Jinja names a template source refers to."""
    return set(meta.find_undeclared_variables(_PARSER.parse(text)))


def _placeholders(text: str) -> tuple[set[str], set[str]]:
    return set(_NAMED.findall(text)), _variables(text) if _JINJA.search(text) else set()


def problems(templates: Path, language: str = "de") -> list[str]:
    """What keeps `language` from being complete for the wording in `templates`: missing,
    empty, fuzzy or obsolete translations, and placeholders that differ from the English."""
    wanted = {
        message.id: message.where
        for messages in extract_messages(templates).values()
        for message in messages
    }
    found = {}
    for path in sorted((templates / LOCALE_FOLDER / language).glob("*.po")):
        for message in read_catalogue(path, language):
            if message.id:
                found[message.id] = (path.name, message)
    out = []
    for msgid, where in wanted.items():
        if msgid not in found:
            out.append(f"missing: {msgid!r} ({where})")
            continue
        name, message = found[msgid]
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(f"{'fuzzy' if message.fuzzy else 'untranslated'} in {name}: {msgid!r}")
            continue
        english_sets = [_placeholders(text) for text in ids]
        for text in strings:
            if _placeholders(text) not in english_sets:
                out.append(f"placeholders differ in {name}: {msgid!r} -> {text!r}")
    for msgid, (name, _message) in found.items():
        if msgid not in wanted:
            out.append(f"obsolete in {name}: {msgid!r}")
    return out


def test_german_is_complete_and_keeps_every_placeholder():
    assert problems(templates_dir()) == []


def test_a_new_sentence_without_its_translation_is_caught(tmp_path):
    folder = tmp_path / "templates"
    shutil.copytree(templates_dir(), folder)
    report = folder / "report.html.j2"
    report.write_text(
        report.read_text().replace(
            "</body>", '<p>{{ _("A brand new sentence for the reader.") }}</p>\n</body>'
        )
    )
    assert problems(folder) == [
        "missing: 'A brand new sentence for the reader.' (report.html.j2:"
        + problems(folder)[0].split("report.html.j2:")[1]
    ]
    assert "A brand new sentence" in problems(folder)[0]


def test_every_german_persona_and_chart_template_compiles_in_the_sandbox():
    words = wording.load("de_DE")
    environment = sandbox(Formatter(), words)
    sources = [
        message.id
        for domain in ("charts", "personas")
        for message in extract_messages()[domain]
        if isinstance(message.id, str) and _JINJA.search(message.id)
    ]
    assert sources
    for source in sources:
        environment.from_string(words.text(source))  # a syntax error raises


def test_the_german_library_loads_with_its_claims_checked_on_the_english():
    library = load_library(templates_dir() / "personas.yaml", Formatter(), wording.load("de"))
    english = load_library(templates_dir() / "personas.yaml", Formatter())
    assert [e.key for e in library.entries] == [e.key for e in english.entries]
    assert library.typical_name != english.typical_name


def test_locale_picks_region_then_language_and_english_needs_no_catalogue():
    german = wording.load("de_AT")
    assert german.language == "de" and german.notice is None
    assert german.gettext("Customer segments") == "Kundensegmente"
    english_words = wording.load("en_GB")
    assert english_words.language == "en" and english_words.notice is None


def test_a_locale_without_catalogue_keeps_english_and_says_so():
    french = wording.load("fr_FR")
    assert french.language == "en"
    assert french.gettext("Customer segments") == "Customer segments"
    assert "fr_FR" in (french.notice or "") and "English" in (french.notice or "")


def test_a_template_folder_brings_its_own_catalogue_which_wins(tmp_path):
    (tmp_path / LOCALE_FOLDER / "de").mkdir(parents=True)
    (tmp_path / LOCALE_FOLDER / "de" / "mine.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Customer segments"\nmsgstr "Unsere Kundengruppen"\n',
        encoding="utf-8",
    )
    words = wording.load("de_DE", tmp_path)
    assert words.gettext("Customer segments") == "Unsere Kundengruppen"
    assert words.gettext("Executive summary") == "Zusammenfassung"  # the default still there
    (tmp_path / LOCALE_FOLDER / "it").mkdir(parents=True)
    (tmp_path / LOCALE_FOLDER / "it" / "report.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Customer segments"\nmsgstr "Segmenti di clienti"\n',
        encoding="utf-8",
    )
    italian = wording.load("it_IT", tmp_path)
    assert italian.language == "it" and italian.notice is None
    assert italian.gettext("Customer segments") == "Segmenti di clienti"


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "broken"])
def test_a_catalogue_that_is_not_a_small_po_file_is_one_error_not_a_hang(tmp_path, kind):
    folder = tmp_path / LOCALE_FOLDER / "de"
    folder.mkdir(parents=True)
    if kind == "broken":
        (folder / "mine.po").write_text('msgid "a"\nmsgstr "b"\ngarbage\n', encoding="utf-8")
    else:
        unreadable(folder / "mine.po", kind)
    with pytest.raises(ConfigError, match=r"mine\.po"):
        wording.load("de_DE", tmp_path)


def test_yaml_wording_without_a_translation_stays_as_written():
    words = wording.load("de_DE")
    assert words.text("Spend") == "Umsatz"
    assert words.text("Our   own\n  words") == "Our   own\n  words"


def test_the_other_bucket_and_reasons_read_in_the_language():
    words = wording.load("de_DE")
    assert words.data("Other (1 value)") == "Sonstige (1 Wert)"
    assert words.data("Other (12 values)") == "Sonstige (12 Werte)"
    assert words.data("Gold") == "Gold"
    parts = (
        (
            N_("k = %(k)s was preferred by %(backers)s (%(count)s of 4 criteria)"),
            {"k": 3, "backers": ["silhouette", "the inertia knee"], "count": 2},
        ),
        (".", {}),
    )
    assert words.phrases(parts) == (
        "k = 3 wurde von Silhouette und der Knick der Inertia bevorzugt (2 von 4 Kriterien)."
    )
    assert (
        english(parts)
        == "k = 3 was preferred by silhouette and the inertia knee (2 of 4 criteria)."
    )
    assert Wording().phrases(parts, lambda n: f"<{n}>") == (
        "k = <3> was preferred by silhouette and the inertia knee (<2> of 4 criteria)."
    )


def test_update_adds_new_messages_untranslated_and_keeps_translations(tmp_path):
    folder = tmp_path / "templates"
    shutil.copytree(templates_dir(), folder)
    report = folder / "report.html.j2"
    report.write_text(report.read_text().replace("</body>", "{{ _('Brand new') }}\n</body>"))
    counts = wording.update("de", folder)
    assert counts["report.po"][2] == 1  # the new one, untranslated
    catalogue = read_catalogue(folder / LOCALE_FOLDER / "de" / "report.po", "de")
    assert catalogue.get("Brand new").string == ""
    assert catalogue.get("Executive summary").string == "Zusammenfassung"
    assert problems(folder) == ["untranslated in report.po: 'Brand new'"]


def test_every_default_catalogue_passes_the_placeholder_check():
    files = sorted((templates_dir() / LOCALE_FOLDER / "de").glob("*.po"))
    assert files
    translations = wording.compile_catalogues(files)  # raises on a placeholder mismatch
    assert translations.gettext("%(items)s and %(last)s") == "%(items)s und %(last)s"


@pytest.mark.parametrize(
    ("msgid", "msgstr", "difference"),
    [
        (
            "%(items)s and %(last)s",
            "%(foo)s und %(last)s",
            r"has %\(foo\)s, which the English has not; it lacks %\(items\)s",
        ),
        ("Customer segments", "Kundensegmente %s", r"has %s, which the English has not"),
        ("%(items)s and %(last)s", "%(items)s", r"it lacks %\(last\)s"),
    ],
)
def test_a_user_catalogue_with_other_placeholders_fails_at_load_naming_file_and_msgid(
    tmp_path, msgid, msgstr, difference
):
    folder = tmp_path / LOCALE_FOLDER / "de"
    folder.mkdir(parents=True)
    (folder / "mine.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        f'msgid "{msgid}"\nmsgstr "{msgstr}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        wording.load("de_DE", tmp_path)
    message = str(caught.value)
    assert "mine.po" in message and repr(msgid) in message
    assert re.search(difference, message), message
    assert "\n" not in message


def test_a_plural_translation_may_leave_the_number_out_of_its_singular_only(tmp_path):
    folder = tmp_path / LOCALE_FOLDER / "de"
    folder.mkdir(parents=True)
    header = (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
    )
    entry = (
        'msgid "Other (%(num)s value)"\nmsgid_plural "Other (%(num)s values)"\n'
        'msgstr[0] "Sonstige (ein Wert)"\nmsgstr[1] "{plural}"\n'
    )
    (folder / "mine.po").write_text(header + entry.format(plural="Sonstige (%(num)s Werte)"))
    assert wording.load("de_DE", tmp_path).data("Other (3 values)") == "Sonstige (3 Werte)"
    (folder / "mine.po").write_text(header + entry.format(plural="Sonstige (viele Werte)"))
    with pytest.raises(ConfigError, match=r"mine\.po.*Other \(%\(num\)s value\).*lacks %\(num\)s"):
        wording.load("de_DE", tmp_path)


def _german(name: str) -> dict[str, str | tuple[str, ...]]:
    path = templates_dir() / LOCALE_FOLDER / "de" / f"{name}.po"
    return {m.id: m.string for m in read_catalogue(path, "de") if m.id}


def test_german_level_words_are_the_same_in_every_catalogue():
    """The German word of a level (LEVELS in wording.py, python.po) is the one the persona
    descriptions, the trait words and the report's definitions use: "lapsed" was
    "abgewandert" in the summary and "inaktiv" in a persona description."""
    python = _german("python")
    levels = {level: python[level] for level in wording.LEVELS}
    assert levels["lapsed"] == "abgewandert" and levels["lost"] == "verloren"
    personas, report = _german("personas"), _german("report")
    for catalogue in (personas, report):
        for level in ("lapsed", "lost"):
            if level in catalogue:  # a trait word spelled as the level
                assert catalogue[level] == levels[level]
            quoting = [m for m in catalogue if f"counts as {level}" in str(m)]
            assert quoting or catalogue is report
            for msgid in quoting:
                strings = catalogue[msgid]
                for text in strings if isinstance(strings, tuple) else (strings,):
                    assert re.search(rf"\bals {levels[level]}\b", text), (msgid, text)
    definitions = report["recent up to %(recent)s, lapsed from %(lapsed)s, lost from %(lost)s"]
    for level in ("recent", "lapsed", "lost"):
        assert definitions.startswith(levels[level]) or f" {levels[level]}:" in definitions
    tenure = report["new (low) up to %(low)s, long-standing (high) from %(high)s"]
    assert personas["new"] in tenure and personas["long-standing"] in tenure
    assert f"({levels['low']})" in tenure and f"({levels['high']})" in tenure
    assert report["new"] == personas["new"]


_TRANS = re.compile(r"\{% trans .*?\{% endtrans %\}", re.S)


def _block(marker: str, name: str = "report.html.j2") -> str:
    """The {% trans %} block of a default template that contains `marker`."""
    found = [b for b in _TRANS.findall((templates_dir() / name).read_text()) if marker in b]
    assert len(found) == 1, (marker, found)
    return found[0]


def _environment(locale: str):
    from reportgen import templating
    from reportgen.config import parse

    words = wording.load(locale)
    return templating.environment(parse({}), Formatter(locale=locale, words=words.language), words)


@pytest.mark.parametrize(
    ("locale", "marker", "context", "one", "two"),
    [
        (
            "en_US",
            "at least {{ orders }}",
            "repeat_orders",
            "at least 1 order)",
            "at least 2 orders)",
        ),
        (
            "de_DE",
            "at least {{ orders }}",
            "repeat_orders",
            "mindestens 1 Bestellung)",
            "mindestens 2 Bestellungen)",
        ),
        ("en_US", "with {{ size }} customer", "size", "with 1 customer (", "with 2 customers ("),
        ("de_DE", "{{ size }} customer · {{ share }}", "size", "1 Kunde ·", "2 Kunden ·"),
        ("en_US", "K-Means", "k", "(1 cluster)", "(2 clusters)"),
    ],
)
def test_a_number_before_a_noun_agrees_with_it(locale, marker, context, one, two):
    block = _block(marker)
    environment = _environment(locale)
    values = {
        "repeat_orders": lambda n: {"profiles": {"repeat_orders": n}},
        "size": lambda n: {
            "largest": {"persona": {"name": "A"}, "profile": {"size": n, "share": 0.5}},
            "s": {"profile": {"size": n, "share": 0.5}},
        },
        "k": lambda n: {"segmentation": {"k": n}},
    }[context]
    assert one in environment.from_string(block).render(values(1))
    assert two in environment.from_string(block).render(values(2))


def test_every_trans_block_that_counts_customers_or_segments_has_a_plural():
    """A number before "customers", "segments", "orders", "resamples"… inside a message is
    pluralised: the block gives `count` and `pluralize`."""
    nouns = "customers|segments|orders|clusters|resamples|rows|order lines"
    # ("below {{ limit }} segments overlap": a silhouette bound, not a count of segments)
    noun = re.compile(rf"\{{\{{ (?!limit\b)\w+ \}}\}} ({nouns})\b")
    for name in ("report.html.j2", "email.html.j2", "email.txt.j2"):
        for block in _TRANS.findall((templates_dir() / name).read_text()):
            if noun.search(block):
                assert "{% pluralize" in block and "count=" in block, (name, block[:120])


def test_no_quotation_mark_is_written_outside_a_message():
    """Quotes are the language's („Umsatz“ in German): a “ or ” in a template outside a
    {% trans %} block or _() would be English typography in every language."""
    for name in ("report.html.j2", "email.html.j2", "email.txt.j2"):
        source = _TRANS.sub("", (templates_dir() / name).read_text())
        source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
        assert not re.search("[“”„]", source), name
    german = _environment("de_DE")
    quoted = german.from_string(_block("“{{ text }}”")).render(text="Umsatz")
    assert quoted == "„Umsatz“"
    assert _environment("en_US").from_string(_block("“{{ text }}”")).render(text="spend") == (
        "“spend”"
    )


def test_a_stored_sentence_with_a_count_takes_the_plural_form_its_number_needs():
    # Before, one customer set aside read "1 customers were too few".
    from reportgen.segment import SET_ASIDE, english
    from reportgen.wording import PLURAL

    one, many = SET_ASIDE
    german = wording.load("de_DE")
    for count, english_start, german_start in (
        (1, " 1 customer was too few", " 1 Kunde war zu weit"),
        (2, " 2 customers were too few", " 2 Kunden waren zu wenige"),
    ):
        parts = ((one, {PLURAL: many, "count": count, "minimum": 10}),)
        assert english(parts).startswith(english_start)
        assert german.phrases(parts).startswith(german_start)
