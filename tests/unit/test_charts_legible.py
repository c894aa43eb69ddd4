"""Charts that read on a phone and say what they mean: every chart's text is at least
charts.MIN_TEXT_PX tall once the report scales it to a phone's column
(charts.PHONE_WIDTH_PX), whatever the data's shape; the heat map colours better and worse,
not high and low, with figures that read on every cell; legends never cover data; the
k-selection chart shows its numbers whole and its chosen k unclipped; and the labels of one
chart share one number format."""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from reportgen import charts, wording
from reportgen.charts import build_charts
from reportgen.config import parse
from reportgen.findings import Findings
from reportgen.formatting import Formatter
from reportgen.history import Migration, Move
from reportgen.personas import assign_personas, load_library
from reportgen.pipeline import analyse, gather
from reportgen.resources import sample_data_path, templates_dir
from reportgen.sample import generate_orders, order_log_bytes

LONG_NAME = "Customers with a rather long persona name, no."
"""46 characters: longer than any name of the bundled persona library."""
EXTRA_ROLES = {
    "tenure": "Days Since First Purchase",
    "aov": "Average Order Value",
    "items_per_order": "Items per Order",
    "return_rate": "Return Rate",
}
"""Columns added to the sample so that every numeric role is in the heat map at once."""


def _findings(path: Path, k: int | None = None, **tables: dict) -> Findings:
    config = parse({"segmentation": {"stability_runs": 0}, **tables})
    return gather(analyse(path, config, k=k), "2026-11", date(2026, 11, 30))


def _with_every_role(folder: Path) -> Path:
    """The sample with tenure, order value, basket size and returns added: 11 roles."""
    frame = pd.read_csv(sample_data_path())
    draw = np.random.default_rng(5)
    since = frame["Days Since Last Purchase"]
    frame[EXTRA_ROLES["tenure"]] = since + draw.integers(30, 900, len(frame))
    frame[EXTRA_ROLES["aov"]] = frame["Total Spend"] / frame["Items Purchased"].clip(lower=1)
    frame[EXTRA_ROLES["items_per_order"]] = draw.integers(1, 6, len(frame))
    frame[EXTRA_ROLES["return_rate"]] = draw.uniform(0, 0.4, len(frame)).round(3)
    path = folder / "every_role.csv"
    frame.to_csv(path, index=False)
    return path


def _with_migration(findings: Findings) -> Findings:
    """A previous period whose segments all have long names, with customers moving from
    each of them to each segment shown now (up to 1,999 a cell: grouped thousands)."""
    ids = [s.id for s in findings.profiles.shown]
    counts = np.random.default_rng(3).integers(0, 2000, (len(ids), len(ids)))
    moves = tuple(
        Move(source, target, int(counts[i, j]), None)
        for (i, source), (j, target) in itertools.product(enumerate(ids), enumerate(ids))
        if counts[i, j]
    )
    names = {i: f"{LONG_NAME} {i}" for i in ids}
    return dataclasses.replace(findings, migration=Migration("2026-10", names, moves, 10, 5))


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> dict[str, tuple[Findings, str, str, bool]]:
    """Briefs of different shapes: findings, locale, currency, long persona names."""
    folder = tmp_path_factory.mktemp("charts")
    orders = folder / "orders.parquet"
    orders.write_bytes(order_log_bytes(generate_orders(1500), ".parquet"))
    every_role = _findings(_with_every_role(folder), k=8, columns=EXTRA_ROLES)
    assert len(every_role.profiles.segments[0].stats) == 11
    return {
        "k2": (_findings(sample_data_path(), k=2), "en_US", "USD", False),
        "k8-long-names-migration": (
            _with_migration(_findings(sample_data_path(), k=8)),
            "en_US",
            "USD",
            True,
        ),
        "every-role-german": (every_role, "de_DE", "EUR", False),
        "order-log": (_findings(orders, data={"kind": "transactions"}), "en_US", "USD", False),
    }


@dataclass(frozen=True)
class Drawn:
    """Each chart of one brief by key: its SVG, and the matplotlib figure behind it."""

    svgs: dict[str, str]
    figures: dict[str, Figure]


def draw(
    findings: Findings, locale: str = "en_US", currency: str = "USD", long_names: bool = False
) -> Drawn:
    """Every chart of a brief as build_charts draws it, `long_names` giving each persona a
    name longer than any in the library."""
    formatter = Formatter(currency=currency, locale=locale)
    words = wording.load(locale)
    library = load_library(templates_dir() / "personas.yaml", formatter, words)
    personas = assign_personas(findings.profiles, library)
    if long_names:
        renamed = tuple(
            dataclasses.replace(p, name=f"{LONG_NAME} {p.segment}") for p in personas.segments
        )
        personas = dataclasses.replace(personas, segments=renamed)
    drawn = []
    original = charts._svg

    def keep(figure: Figure, formatter: Formatter | None = None) -> str:
        svg = original(figure, formatter)
        drawn.append((svg, figure))
        return svg

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(charts, "_svg", keep)
        made = build_charts(findings, personas, templates_dir() / "charts.yaml", formatter, words)
    every = [made.sizes, *made.overview, made.selection, *made.per_segment.values()]
    every += [made.migration] if made.migration else []
    figures = dict(drawn)
    return Drawn(
        {chart.key: chart.svg for chart in every},
        {chart.key: figures[chart.svg] for chart in every},
    )


def shown_on_a_phone(svg: str) -> float:
    """The smallest text of a chart in CSS pixels when the chart is PHONE_WIDTH_PX wide."""
    width = float(re.search(r'viewBox="0 0 ([\d.]+) [\d.]+"', svg).group(1))
    sizes = [float(size) for size in re.findall(r"font-size: ([\d.]+)px", svg)]
    assert len(sizes) == svg.count("<text"), "every text states its size"
    assert sizes, "a chart without text"
    return min(sizes) * charts.PHONE_WIDTH_PX / width


def _within(inner, outer) -> bool:
    """`inner` lies inside `outer` (to a pixel: anti-aliasing)."""
    return (
        outer.x0 - 1 <= inner.x0
        and inner.x1 <= outer.x1 + 1
        and outer.y0 - 1 <= inner.y0
        and inner.y1 <= outer.y1 + 1
    )


def test_the_phone_rule_is_370_pixels_wide_and_10_pixels_of_text():
    assert (charts.PHONE_WIDTH_PX, charts.MIN_TEXT_PX) == (370, 10)


@pytest.mark.parametrize(
    "shape", ["k2", "k8-long-names-migration", "every-role-german", "order-log"]
)
def test_every_chart_reads_at_10_pixels_on_a_phone(shapes, shape):
    findings, locale, currency, long_names = shapes[shape]
    brief = draw(findings, locale, currency, long_names)
    expected = {"sizes", "heatmap", "scatter", "selection"}
    expected |= {f"profile-{s.id}" for s in findings.profiles.shown}
    expected |= {"migration"} if findings.migration else set()
    assert expected <= set(brief.svgs)
    for key, svg in brief.svgs.items():
        assert shown_on_a_phone(svg) >= charts.MIN_TEXT_PX, key
        figure = brief.figures[key]  # and nothing drawn runs off the chart's edges
        renderer = FigureCanvasAgg(figure).get_renderer()
        figure.draw(renderer)
        for part in [*figure.axes, *figure.legends]:
            assert _within(part.get_tightbbox(renderer), figure.bbox), (key, part)


def _relative_luminance(colour) -> float:
    """WCAG 2.x relative luminance, written out here so the test does not trust charts'."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first, second) -> float:
    dark, light = sorted((_relative_luminance(first), _relative_luminance(second)))
    return (light + 0.05) / (dark + 0.05)


def _with_z(findings: Findings, z) -> Findings:
    """The same brief with the z-scores of the shown segments set: z(role, its index among
    the roles, segment id)."""
    segments = tuple(
        s
        if s.suppressed
        else dataclasses.replace(
            s,
            stats={
                role: dataclasses.replace(stats, z=float(z(role, n, s.id)))
                for n, (role, stats) in enumerate(s.stats.items())
            },
        )
        for s in findings.profiles.segments
    )
    return dataclasses.replace(
        findings, profiles=dataclasses.replace(findings.profiles, segments=segments)
    )


def _cells(figure: Figure) -> tuple[np.ndarray, dict[tuple[int, int], tuple[str, str]]]:
    """A grid chart's cell colours (row, column, RGB) and each cell's text and its colour."""
    grid = figure.axes[0]
    mesh = grid.collections[0]
    mesh.update_scalarmappable()  # the colours of the cells, as they are drawn
    colours = mesh.get_facecolors()[:, :3].reshape(*np.shape(mesh.get_array()), 3)
    texts = {}
    for text in grid.texts:
        x, y = text.get_position()
        texts[(int(y), int(x))] = (text.get_text(), text.get_color())
    assert colours.ndim == 3 and len(texts) == colours.shape[0] * colours.shape[1]
    return colours, texts


@pytest.fixture(scope="module")
def k2(shapes) -> Findings:
    return shapes["k2"][0]


def _keys(figure: Figure) -> dict[tuple[str, ...], str]:
    """The heat map's colour bars: the words at their ticks, and each bar's label."""
    return {
        tuple(t.get_text() for t in axes.get_xticklabels()): axes.get_xlabel()
        for axes in figure.axes[1:]
    }


def test_heat_map_colours_better_and_worse_not_high_and_low(k2):
    first, second = (s.id for s in k2.profiles.shown)
    plus = {"spend": 1.5, "recency": 1.5, "age": 1.5, "discount": 1.5}
    brief = draw(_with_z(k2, lambda role, n, id: plus.get(role, 0) * (1 if id == first else -1)))
    roles = list(k2.profiles.segments[0].stats)
    colours, texts = _cells(brief.figures["heatmap"])
    assert colours.shape[:2] == (len(roles), 2), "a row per role, a column per segment"
    cell = {
        (role, id): colours[roles.index(role), column]
        for role in roles
        for column, id in enumerate((first, second))
    }
    # More spend and fewer days since the last purchase are both better, and look alike:
    assert np.allclose(cell["spend", first], cell["recency", second])
    assert np.allclose(cell["spend", second], cell["recency", first])
    better, worse = cell["spend", first], cell["spend", second]
    assert better[2] > better[0] + 0.2 and worse[0] > worse[2] + 0.2, "blue better, orange worse"
    for role in ("age", "discount"):  # neither better nor worse: grey, whichever the sign
        for id in (first, second):
            red, green, blue = cell[role, id]
            assert red == pytest.approx(green, abs=0.02) and green == pytest.approx(blue, abs=0.02)
        assert np.allclose(cell[role, first], cell[role, second])
    assert texts[roles.index("recency"), 0][0] == "+1.5"  # the real z, not the better-signed one
    figure = brief.figures["heatmap"]
    assert _keys(figure) == {
        ("worse", "average", "better"): "",
        ("average", "far from average"): "grey: neither better nor worse",
    }
    german = draw(_with_z(k2, lambda role, n, id: 0.5), "de_DE", "EUR").figures["heatmap"]
    assert _keys(german) == {
        ("schlechter", "Durchschnitt", "besser"): "",
        ("Durchschnitt", "weit vom Durchschnitt"): "grau: weder besser noch schlechter",
    }


def test_heat_map_figures_have_one_decimal_and_zero_has_no_sign(k2):
    values = [-0.04, 0.04, -1.25, 2.0, 0.96, -0.949, 0.0]
    first = k2.profiles.shown[0].id
    given = _with_z(k2, lambda role, n, id: values[n % len(values)] * (1 if id == first else -1))
    _, texts = _cells(draw(given).figures["heatmap"])
    expected = [
        "0.0", "0.0", "−1.2", "+2.0", "+1.0", "−0.9", "0.0",  # first segment
        "0.0", "0.0", "+1.2", "−2.0", "−1.0", "+0.9", "0.0",  # second: the same, negated
    ]  # fmt: skip
    roles = len(k2.profiles.segments[0].stats)
    assert roles == len(values)
    shown = [texts[row, column][0] for column in range(2) for row in range(roles)]
    assert shown == expected


def test_every_figure_on_a_cell_contrasts_4_5_to_1_with_its_cell(shapes):
    findings = shapes["k8-long-names-migration"][0]
    ids = [s.id for s in findings.profiles.shown]
    sweep = np.linspace(-3, 3, len(findings.profiles.segments[0].stats) * len(ids))
    brief = draw(_with_z(findings, lambda role, n, id: sweep[n * len(ids) + ids.index(id)]))
    for key in ("heatmap", "migration"):
        colours, texts = _cells(brief.figures[key])
        for (row, column), (text, ink) in texts.items():
            ratio = _contrast(ink, colours[row, column])
            assert ratio >= 4.5, (key, text, colours[row, column], ink, ratio)


def _legends(figure: Figure) -> list:
    return [*figure.legends, *(a.get_legend() for a in figure.axes if a.get_legend())]


def test_legends_sit_above_the_plot_even_over_a_full_bar(k2):
    first = k2.profiles.shown[0].id
    segments = tuple(
        dataclasses.replace(
            s, share=1.0 if s.id == first else 0.0, revenue_share=1.0 if s.id == first else 0.0
        )
        for s in k2.profiles.segments
    )
    full = dataclasses.replace(k2, profiles=dataclasses.replace(k2.profiles, segments=segments))
    brief = draw(full)
    keys = ["sizes", "scatter", *(key for key in brief.figures if key.startswith("mix-"))]
    assert len(keys) == 4
    for key in keys:
        figure = brief.figures[key]
        renderer = FigureCanvasAgg(figure).get_renderer()
        figure.draw(renderer)
        (legend,) = _legends(figure)
        box = legend.get_window_extent(renderer)
        plot = figure.axes[0].get_window_extent(renderer)
        assert box.y0 >= plot.y1, (key, "the legend sits above the plot")
        for patch in figure.axes[0].patches:
            assert not box.overlaps(patch.get_window_extent(renderer)), key


def _share_labels(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.axes[0].texts if t.get_text().endswith("%")]


def test_share_labels_of_one_chart_have_the_same_decimals(k2):
    brief = draw(k2)
    for key in ("sizes", "mix-satisfaction", "mix-tier"):
        labels = _share_labels(brief.figures[key])
        assert labels and all(re.fullmatch(r"\d+%", label) for label in labels), (key, labels)
    first, second = (s.id for s in k2.profiles.shown)
    tiny = {first: 0.997, second: 0.003}  # 0 decimals would print "100%" and "0%"
    segments = tuple(
        dataclasses.replace(s, share=tiny[s.id], revenue_share=tiny[s.id]) if s.id in tiny else s
        for s in k2.profiles.segments
    )
    small = dataclasses.replace(k2, profiles=dataclasses.replace(k2.profiles, segments=segments))
    assert _share_labels(draw(small).figures["sizes"]) == ["99.7%", "0.3%", "99.7%", "0.3%"]


def test_selection_writes_every_number_whole_and_draws_the_chosen_k_whole(k2):
    scores = k2.segmentation.scores
    last = len(scores) - 1  # the chosen k at the right edge, best on every criterion
    bigger = tuple(
        dataclasses.replace(
            s,
            inertia=12_345_678.0 - 1_000_000 * n,
            silhouette=0.2 + 0.01 * n,
            calinski_harabasz=1000.0 + n,
            davies_bouldin=2.0 - 0.01 * n,
        )
        for n, s in enumerate(scores)
    )
    summary = dataclasses.replace(k2.segmentation, scores=bigger, k=scores[last].k)
    figure = draw(dataclasses.replace(k2, segmentation=summary)).figures["selection"]
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    assert len(figure.axes) == 4
    for axes in figure.axes:
        for side in (axes.xaxis, axes.yaxis):
            assert side.get_offset_text().get_text() == "", "no 1e6 beside an axis"
        labels = [t.get_text() for t in axes.get_yticklabels() if t.get_text()]
        assert labels and not any("e" in label for label in labels), labels
        (chosen,) = [line for line in axes.lines if line.get_markersize() == 8]
        marker = chosen.get_window_extent(renderer)
        assert _within(marker, figure.bbox), "the chosen k is inside the chart"
        assert not chosen.get_clip_on(), "and drawn whole, even on the plot's edge"
    inertia = [t.get_text() for t in figure.axes[0].get_yticklabels() if t.get_text()]
    assert any(re.fullmatch(r"\d{1,2},\d{3},\d{3}", label) for label in inertia), inertia
