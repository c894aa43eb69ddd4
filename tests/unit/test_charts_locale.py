"""Chart axes, titles and alt text in the report's locale: tick labels say exactly where
they sit (shares with the decimals their spacing needs, money as money, grouped counts,
never a "1e6" offset), subplot titles stay within their subplot, and signed figures in
alt text take the real minus sign and the locale's decimal mark."""

from __future__ import annotations

import dataclasses
import itertools
import re
from datetime import date

import pytest
from babel.numbers import get_decimal_symbol, get_group_symbol
from matplotlib.backends.backend_agg import FigureCanvasAgg

from reportgen import charts, wording
from reportgen.charts import build_charts
from reportgen.config import parse
from reportgen.formatting import MINUS, Formatter, parse_locale
from reportgen.personas import assign_personas, load_library
from reportgen.pipeline import analyse, gather
from reportgen.resources import sample_data_path, templates_dir

LOCALES = [("en_US", "USD"), ("de_DE", "EUR")]


@pytest.fixture(scope="module")
def findings():
    analysis = analyse(sample_data_path(), parse({"segmentation": {"stability_runs": 0}}))
    return gather(analysis, "2026-11", date(2026, 11, 30))


class Drawn:
    """The charts of one brief, and the matplotlib figure behind each (after saving)."""

    def __init__(self, findings, locale: str, currency: str) -> None:
        self.formatter = Formatter(currency=currency, locale=locale)
        words = wording.load(locale)
        library = load_library(templates_dir() / "personas.yaml", self.formatter, words)
        personas = assign_personas(findings.profiles, library)
        drawn = []
        original = charts._svg

        def keep(figure, formatter=None):
            svg = original(figure, formatter)
            drawn.append((svg, figure))
            return svg

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(charts, "_svg", keep)
            self.charts = build_charts(
                findings, personas, templates_dir() / "charts.yaml", self.formatter, words
            )
        by_svg = dict(drawn)
        every = [
            self.charts.sizes,
            *self.charts.overview,
            self.charts.selection,
            *self.charts.per_segment.values(),
        ]
        self.figures = {chart.key: by_svg[chart.svg] for chart in every}
        self.by_key = {chart.key: chart for chart in every}

    def number(self, label: str) -> float:
        """The figure a tick label states, read the locale's way ("2,5 %" -> 2.5)."""
        place = parse_locale(self.formatter.locale)
        text = label.replace(get_group_symbol(place), "").replace(get_decimal_symbol(place), ".")
        found = re.search(r"[−-]?\d+(?:\.\d+)?", text.replace(MINUS, "-"))
        assert found, label
        return float(found.group())


def ticks(side) -> list[tuple[float, str]]:
    """(location, label) of every major tick drawn on an x or y axis."""
    lo, hi = sorted(side.get_view_interval())
    return [
        (tick.get_loc(), tick.label1.get_text())
        for tick in side.get_major_ticks()
        if lo - 1e-9 * max(1, abs(hi)) <= tick.get_loc() <= hi + 1e-9 * max(1, abs(hi))
    ]


def _small_shares(findings, divisor: float):
    """The same segments with their shares divided by `divisor`: on the sample, 1.7 gives
    an axis of 0 to 20 % (matplotlib's own ticks sit 2.5 % apart), 8 one of 0 to 4 %
    (ticks 0.5 % apart, which whole percentages misstate)."""
    segments = tuple(
        dataclasses.replace(
            s,
            share=s.share / divisor,
            revenue_share=None if s.revenue_share is None else s.revenue_share / divisor,
        )
        for s in findings.profiles.segments
    )
    return dataclasses.replace(
        findings, profiles=dataclasses.replace(findings.profiles, segments=segments)
    )


def _scaled(findings, factor: float, *roles: str):
    """The distribution sample with `roles` multiplied by `factor` (spend in the millions)."""
    plots = findings.plots
    distributions = {
        role: tuple(v * factor for v in values) if role in roles else values
        for role, values in plots.distributions.items()
    }
    return dataclasses.replace(
        findings, plots=dataclasses.replace(plots, distributions=distributions)
    )


@pytest.mark.parametrize(("locale", "currency"), LOCALES)
def test_share_ticks_say_exactly_where_they_sit(findings, locale, currency):
    for brief in (
        Drawn(findings, locale, currency),
        Drawn(_small_shares(findings, 1.7), locale, currency),
        Drawn(_small_shares(findings, 8), locale, currency),
    ):
        keys = ["sizes"] + [key for key in brief.figures if key.startswith("mix-")]
        assert len(keys) >= 2
        for key in keys:
            shown = ticks(brief.figures[key].axes[0].xaxis)
            assert len(shown) >= 3, (key, shown)
            for location, label in shown:
                assert "%" in label, (key, label)
                assert brief.number(label) == pytest.approx(location * 100, abs=1e-9), (
                    key,
                    location,
                    label,
                )
            labels = [label for _, label in shown]
            assert len(set(labels)) == len(labels), labels


@pytest.mark.parametrize(("locale", "currency"), LOCALES)
@pytest.mark.parametrize("factor", [1, 1000])
def test_money_axes_read_as_money_and_no_axis_has_an_offset(findings, locale, currency, factor):
    brief = Drawn(_scaled(findings, factor, "spend", "frequency"), locale, currency)
    money = ticks(brief.figures["distribution-spend"].axes[0].xaxis)
    assert len(money) >= 3
    symbol = "$" if currency == "USD" else "€"
    for location, label in money:
        assert label == brief.formatter.money(location), (location, label)
        assert symbol in label
    labels = [label for _, label in money]
    assert len(set(labels)) == len(labels), labels
    if factor == 1000:  # millions in CLDR's short form: "$2M", "2 Mio. €"
        assert any(("M" in label) for label in labels), labels
    else:  # thousands grouped the locale's way: "$1,000", "1.000 €"
        group = "," if locale == "en_US" else "."
        assert any(re.search(rf"\d{re.escape(group)}\d{{3}}", label) for label in labels)
    counts = ticks(brief.figures["distribution-frequency"].axes[0].xaxis)
    for location, label in counts:
        assert brief.number(label) == pytest.approx(location), (location, label)
    if factor == 1000:
        big = [label for location, label in counts if location >= 10_000]
        assert big and all(get_group_symbol(parse_locale(locale)) in label for label in big)
    for key, figure in brief.figures.items():
        for axes in figure.axes:
            for side in (axes.xaxis, axes.yaxis):
                offset = side.get_offset_text()
                assert not (offset.get_visible() and offset.get_text()), (key, offset.get_text())
                for _, label in ticks(side):
                    assert "e+" not in label and "1e" not in label, (key, label)


@pytest.mark.parametrize(("locale", "currency"), LOCALES)
def test_selection_axes_group_thousands_and_say_where_ticks_sit(findings, locale, currency):
    brief = Drawn(findings, locale, currency)
    inertia = brief.figures["selection"].axes[0]
    shown = ticks(inertia.yaxis)
    assert shown
    for location, label in shown:
        assert brief.number(label) == pytest.approx(location), (location, label)
    assert any(get_group_symbol(parse_locale(locale)) in label for _, label in shown)


@pytest.mark.parametrize(("locale", "currency"), LOCALES)
def test_selection_titles_fit_their_subplots(findings, locale, currency):
    brief = Drawn(findings, locale, currency)
    figure = brief.figures["selection"]
    renderer = FigureCanvasAgg(figure).get_renderer()  # closed figures lose their canvas
    boxes = []
    for axes in figure.axes:
        title = axes.title
        assert "\n" in title.get_text()  # "(higher is better)" on a line of its own
        box = title.get_window_extent(renderer)
        frame = axes.get_window_extent(renderer)
        assert box.width <= frame.width * 1.1, (title.get_text(), box.width, frame.width)
        boxes.append(box)
    for first, second in itertools.combinations(boxes, 2):
        assert not first.overlaps(second), "subplot titles run into each other"
    rows: dict[int, list[float]] = {}  # the titles of a row of panels stand on one line
    for axes, box in zip(figure.axes, boxes, strict=True):
        rows.setdefault(axes.get_subplotspec().rowspan.start, []).append(box.y0)
    assert len(rows) == 2, "the four panels are a 2 x 2 grid"
    assert all(max(bottoms) - min(bottoms) < 1 for bottoms in rows.values()), rows
    if locale == "de_DE":
        texts = " ".join(axes.title.get_text() for axes in figure.axes)
        assert "höher ist besser" in texts and "niedriger ist besser" in texts


@pytest.mark.parametrize(("locale", "currency"), LOCALES)
def test_alt_text_signs_with_the_real_minus_and_locale_decimals(findings, locale, currency):
    brief = Drawn(findings, locale, currency)
    mark = "," if locale == "de_DE" else "."
    alts = [brief.by_key["heatmap"].alt] + [c.alt for c in brief.charts.per_segment.values()]
    for alt in alts:
        assert not re.search(r"-\d", alt), alt  # no hyphen-minus before a figure
        assert not re.search(r"[+−]\d+" + re.escape("." if mark == "," else ","), alt), alt
    text = " ".join(alts)
    assert re.search(MINUS + r"\d+" + re.escape(mark) + r"\d", text)
    assert re.search(r"\+\d+" + re.escape(mark) + r"\d", text)
    for segment in findings.profiles.segments:
        if segment.suppressed:
            continue
        alt = brief.charts.per_segment[segment.id].alt
        for stats in segment.stats.values():
            assert brief.formatter.signed(stats.z) in alt
