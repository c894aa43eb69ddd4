"""Every figure of the report, each with a title and alt text, as inline SVG.

Charts use matplotlib's Agg backend and one colour per segment id from the
Okabe–Ito palette (safe for colour-blind readers), so a segment has the same
colour in every chart and every month. Large data is plotted from a seeded
sample; every number quoted in alt text comes from `profile`, on all rows.
Titles and alt text are templates (templates/charts.yaml), not code.

Every chart is drawn once, for a phone: CHART_WIDTH wide, so that its TEXT_PT text
still reads at MIN_TEXT_PX when the report scales it to a phone's column; more
segments or roles make a chart taller, never wider. A bar's name sits above it, so
the bars keep the whole width; legends sit above the plot, never over data.
"""

from __future__ import annotations

import io
import itertools
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, ListedColormap, Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path
from matplotlib.transforms import offset_copy

from reportgen import periods, yamlfile
from reportgen.errors import ConfigError
from reportgen.findings import ChartData, Findings
from reportgen.formatting import ROLE_FORMATS, Formatter, clip
from reportgen.history import Migration, Move
from reportgen.personas import Persona, Personas
from reportgen.plain import plain
from reportgen.profile import Profiles, RoleStats, SegmentProfile
from reportgen.resources import templates_dir
from reportgen.roles import ROLE_BY_NAME, ROLES
from reportgen.segment import SegmentationSummary
from reportgen.templating import render_user, sandbox
from reportgen.trend import Series, Trend
from reportgen.trend import of as trend_of
from reportgen.wording import ENGLISH, Wording

if TYPE_CHECKING:  # matplotlib 3.10.0, the oldest supported, does not have it
    from matplotlib.typing import RcKeyType

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
MIX_ROLES = ("tier", "satisfaction")

SYSTEM_FONT = "DejaVu Sans"
"""The brief's typeface as installed (and as matplotlib measures text, with its own copy)."""
BRIEF_FONT = "reportgen DejaVu Sans"
"""The same typeface as bundled in templates/fonts/ and declared by report.css.j2 under a
name of its own: an installed font of the same name would win over the bundled one."""
FONT_FAMILIES = f"'{BRIEF_FONT}', '{SYSTEM_FONT}'"
"""Where the brief's text and chart labels look for their font, first to last."""
PHONE_WIDTH_PX = 370
"""How wide a chart is shown on a 390 px phone, in CSS pixels: the report's column, inside
its padding. The HTML scales every chart to its column, so on a phone a chart's width
in points becomes 370 pixels, and its text shrinks by the same factor."""
MIN_TEXT_PX = 10
"""The smallest text any chart may show at PHONE_WIDTH_PX, in CSS pixels: smaller tick
labels and figures cannot be read on a phone without zooming."""
TEXT_PT = 10.0
"""The size of all chart text, in points (SVG user units): axis labels, ticks, legends,
figures on bars and cells. Titles of the k-selection panels are no larger."""
CHART_WIDTH = math.floor(PHONE_WIDTH_PX / MIN_TEXT_PX * TEXT_PT / 72 * 10) / 10
"""Every chart's width in inches (5.1): the widest, to a tenth of an inch, at which
TEXT_PT text still shows at MIN_TEXT_PX or more once the chart is scaled to
PHONE_WIDTH_PX. Charts are laid out at exactly this width (constrained layout, no tight
crop that could widen them)."""
LINE = TEXT_PT * 1.25 / 72
"""Inches one line of chart text takes, with its leading."""
NAME_ROOM = LINE + 6 / 72
"""Inches above a segment's bars for its name: a line, 4 pt below the row above and 2 pt
above its own bars, so a name sits nearer its own bars than the previous ones."""
BAR = 0.18
"""Inches of one segment's bar or box in the size, box and mix charts."""
_FOOT = 4 / 72
"""Inches between the last row's bars and the axis below them."""
LABEL_WIDTH = 20
"""The most characters a line of a label beside or above a grid takes (a role in the heat
map's rows, a segment's name in its column heads): longer ones wrap, so a chart at
CHART_WIDTH keeps its room for the data."""

_BETTER_COLOURS = LinearSegmentedColormap.from_list(
    "worse-better", ["#B35806", "#FDB863", "#F7F7F7", "#92C5DE", "#2166AC"]
)
"""Orange for worse, blue for better (Role.better), near-white for the average: readable by
colour-blind readers (no red against green) and in grey print (lightness grows with the
difference). The heat map colours a segment better or worse by its role's direction,
never "high"."""
_NEUTRAL_COLOURS = LinearSegmentedColormap.from_list("neutral", ["#F7F7F7", "#636363"])
"""Grey for a role that is neither better nor worse: darker the further from the average."""

_STYLE: dict[RcKeyType, Any] = {
    "font.family": SYSTEM_FONT,
    "font.size": TEXT_PT,
    "axes.titlesize": TEXT_PT,
    "axes.labelsize": TEXT_PT,
    "xtick.labelsize": TEXT_PT,
    "ytick.labelsize": TEXT_PT,
    "legend.fontsize": TEXT_PT,
    "legend.title_fontsize": TEXT_PT,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text: small files, searchable PDFs
    "svg.hashsalt": "reportgen",  # stable ids: the same data gives the same SVG
    # Chart text is data (category values, persona names, money such as "$1 to $9"):
    # drawn as written, never parsed as mathtext or TeX, where "$x^$" is a traceback.
    # Set here, not left to a matplotlibrc, and so are axis offsets ("1e6", not TeX).
    "text.parse_math": False,
    "text.usetex": False,
    "axes.formatter.use_mathtext": False,
}


Shown = list[SegmentProfile]
"""The segments large enough to describe, in id order: the only ones a chart shows."""
Context = dict[str, Any]
"""What every chart's alt text may quote (plain data once rendered): the segments shown,
their count and the roles' labels."""


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    alt: str
    svg: str


@dataclass(frozen=True, kw_only=True)
class Charts:
    sizes: Chart
    """Customers and revenue per segment (executive summary)."""
    overview: tuple[Chart, ...]
    """Charts comparing all segments."""
    selection: Chart
    """The evidence for k (method section)."""
    per_segment: Mapping[int, Chart]
    migration: Chart | None
    """Customers by previous and current segment, who stayed and who changed; None
    without a previous period."""
    regrouping: Chart | None
    """Customers by previous and current segment whom the segments were redrawn around;
    None when there were none."""
    trend: Chart | None
    """Each segment's shares over the archive's last months; None without a trend."""
    colors: Mapping[int, str]
    role_labels: Mapping[str, str]
    """How each role is named for people (from the chart wording)."""


def color(segment_id: int) -> str:
    return PALETTE[(segment_id - 1) % len(PALETTE)]


_STEPS = (1, 2, 5, 10)
"""Tick spacings (times a power of ten) for shares and money in millions: 2 % or 5 %,
never 2.5 %, so share ticks mostly need no decimals, and no "$1.2M" stands for $1.25M."""


def _decimals(locs: Any) -> int:
    """The fewest decimals that write every tick of `locs` exactly (2.5 needs one)."""
    values = sorted(float(v) for v in locs if np.isfinite(v))
    gaps = [b - a for a, b in itertools.pairwise(values) if b > a]
    tolerance = (min(gaps) if gaps else max([1.0, *(abs(v) for v in values)])) * 1e-6
    for decimals in range(7):
        if all(abs(v - round(v, decimals)) <= tolerance for v in values):
            return decimals
    return 6


class _NumberTicks(matplotlib.ticker.Formatter):
    """Plain number ticks in the report's locale, grouped ("8.000", "−0,5"), with the
    decimals their spacing needs and never an offset or a "1e6" beside the axis."""

    def __init__(self, formatter: Formatter, scale: float = 1.0) -> None:
        self.formatter, self.scale, self.decimals = formatter, scale, 0

    def set_locs(self, locs: Any) -> None:
        super().set_locs(locs)
        self.decimals = _decimals([v * self.scale for v in locs])

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.formatter.number(x, self.decimals)

    def get_offset(self) -> str:
        return ""


class _PercentTicks(_NumberTicks):
    """Share ticks as percentages ("20 %" in German), "2.5 %" where a tick sits there."""

    def __init__(self, formatter: Formatter) -> None:
        super().__init__(formatter, 100.0)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.formatter.percent(x, self.decimals)


class _MoneyTicks(matplotlib.ticker.Formatter):
    """Money ticks as the brief writes money: "$2,000", "2.000 €", "$2.4M"."""

    def __init__(self, formatter: Formatter) -> None:
        self.formatter = formatter

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.formatter.money(x)

    def get_offset(self) -> str:
        return ""


class _MoneyLocator(matplotlib.ticker.MaxNLocator):
    """Whole-unit ticks money writes exactly: steps of 2.5 ($250) below a million, where
    money is whole units; from a million up, where money takes the short form with one
    decimal ("$2.4M"), steps of 1, 2 or 5 only ($1.25M would read "$1.2M"), and fewer
    ticks when two would still read the same, as $1.00M and $1.05M would."""

    def __init__(self, formatter: Formatter) -> None:
        super().__init__("auto", steps=[1, 2, 2.5, 5, 10], integer=True)  # as AutoLocator
        self.formatter = formatter

    def _distinct(self, ticks: Any, vmin: float, vmax: float) -> bool:
        low, high = min(vmin, vmax), max(vmin, vmax)
        shown = [t for t in ticks if low <= t <= high]
        return len({self.formatter.money(t) for t in shown}) == len(shown)

    def tick_values(self, vmin: float, vmax: float) -> Any:
        short = max(abs(vmin), abs(vmax)) >= 1e6 - 0.5
        self.set_params(steps=list(_STEPS) if short else [1, 2, 2.5, 5, 10])
        ticks = super().tick_values(vmin, vmax)
        bins = len(ticks)
        while bins > 1 and not self._distinct(ticks, vmin, vmax):
            bins -= 1
            fewer = matplotlib.ticker.MaxNLocator(bins, steps=list(_STEPS), integer=True)
            ticks = fewer.tick_values(vmin, vmax)
        return ticks


def _money_axis(side: Any, formatter: Formatter) -> None:
    side.set_major_locator(_MoneyLocator(formatter))
    side.set_major_formatter(_MoneyTicks(formatter))


def _svg(figure: Figure, formatter: Formatter | None = None) -> str:
    """The figure as SVG text, its labels set in the brief's bundled font (BRIEF_FONT)
    where the document provides it (WeasyPrint), else in an installed DejaVu Sans."""
    if formatter is not None:  # plain number ticks follow the locale too
        for axis in figure.axes:
            for side in (axis.xaxis, axis.yaxis):
                ticks = side.get_major_formatter()
                if isinstance(ticks, matplotlib.ticker.ScalarFormatter):
                    side.set_major_formatter(_NumberTicks(formatter))
    buffer = io.StringIO()
    # The figure's own size, not a tight crop: a crop could make it wider than CHART_WIDTH.
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    text = text.replace(f"font-family: '{SYSTEM_FONT}'", f"font-family: {FONT_FAMILIES}")
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inlined as is


def _figure(height: float, rows: int = 1, columns: int = 1, **options: Any) -> tuple[Figure, Any]:
    """A figure CHART_WIDTH wide and `height` inches tall whose constrained layout keeps
    every label, legend and colour bar inside it."""
    return plt.subplots(
        rows, columns, figsize=(CHART_WIDTH, height), layout="constrained", **options
    )


def _text_inches(text: str) -> float:
    """How wide `text` is drawn at TEXT_PT (its longest line), in inches: measured before
    drawing, to size a figure for its labels."""
    font = FontProperties(size=TEXT_PT)
    return (
        max(
            text_to_path.get_text_width_height_descent(line, font, ismath=False)[0]
            for line in text.split("\n")
        )
        / 72
    )


def _wrap(text: str, width: int = LABEL_WIDTH) -> str:
    """`text` in lines of at most `width` characters, broken between words only."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False) or [text])


def _luminance(colour: Any) -> float:
    """A colour's relative luminance as WCAG 2 defines it: 0 for black, 1 for white."""
    red, green, blue = (
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)
    )
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _contrast(first: Any, second: Any) -> float:
    """The WCAG 2 contrast ratio of two colours, from 1 (the same) to 21 (black on white)."""
    darker, lighter = sorted((_luminance(first), _luminance(second)))
    return (lighter + 0.05) / (darker + 0.05)


def _ink(background: Any) -> str:
    """Black or white text, whichever contrasts more with `background`: at least 4.58:1 on
    any colour, above the 4.5:1 WCAG asks of text."""
    return max(("black", "white"), key=lambda ink: _contrast(ink, background))


def _legend_above(figure: Figure, axis: Axes, **options: Any) -> None:
    """The axes' legend above the plot, never over its data, in as many columns as fit the
    chart's width; the figure grows by the rows it takes."""
    handles, labels = axis.get_legend_handles_labels()
    entry = max(_text_inches(label) for label in labels) + 5 * TEXT_PT / 72  # key and gaps
    rows = math.ceil(len(labels) / max(1, min(len(labels), int(CHART_WIDTH // entry))))
    columns = math.ceil(len(labels) / rows)  # rows as even as they can be: 4 + 4, not 6 + 2
    # A legend fills column by column; taken in this order, it reads row by row: 1 2 3 4 / 5 6.
    order = [i for column in range(columns) for i in range(column, len(labels), columns)]
    figure.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="outside upper center",
        ncols=columns,
        frameon=False,
        **options,
    )
    figure.set_figheight(figure.get_figheight() + rows * LINE)


def _share_decimals(shares: Sequence[float]) -> int:
    """The decimals every share label of one chart takes: none, unless a share would then
    read 0 % or 100 % without being exactly that; then one, for all of them alike."""
    misread = any(0 < share < 0.005 or 0.995 <= share < 1 for share in shares)
    return 1 if misread else 0


def _named_rows(axis: Axes, names: Sequence[str], pitch: float) -> tuple[np.ndarray, float]:
    """Each segment's name on a line of its own above its row, from the plot's left edge,
    so the bars keep the chart's whole width and a long name is never cut or wrapped.

    Row i spans i to i + 1 on the y axis and `pitch` inches on the chart: NAME_ROOM for the
    name, the rest for its bars. Returns each row's bar centre and the bars' height.
    """
    head = NAME_ROOM / pitch
    above = offset_copy(
        axis.get_yaxis_transform(), fig=axis.get_figure(root=True), y=2, units="points"
    )
    for i, name in enumerate(names):
        axis.text(0, i + head, name, transform=above, ha="left", va="bottom")
    axis.set_ylim(len(names) + _FOOT / pitch, 0)
    axis.set_yticks([])
    axis.spines["left"].set_visible(False)
    return np.arange(len(names)) + (1 + head) / 2, 1 - head


def _plot_height(figure: Figure, axis: Axes, inches: float) -> None:
    """Make the figure as tall as it takes for the plot itself to be `inches` tall once laid
    out, whatever its legend, ticks and labels take: rows of names and bars keep the pitch
    they were placed at. Lays the figure out once more, without drawing it."""
    engine = figure.get_layout_engine()
    assert engine is not None  # every chart is laid out by constraints (_figure)
    engine.execute(figure)
    plotted = axis.get_position().height * figure.get_figheight()
    figure.set_figheight(figure.get_figheight() + inches - plotted)


def _fitted(text: str, inches: float) -> str:
    """`text` wrapped at the most characters a line, from LABEL_WIDTH down to 12, that keep
    it within `inches`; words are never broken, so one longer word still takes its width."""
    for width in range(LABEL_WIDTH, 11, -1):
        wrapped = _wrap(text, width)
        if _text_inches(wrapped) <= inches:
            return wrapped
    return wrapped


def _in_lines(text: str, lines: int) -> str:
    """`text` wrapped in at most `lines` lines, as short as that allows (LABEL_WIDTH or more
    characters): an upright column head as wide as its column has room for."""
    width = LABEL_WIDTH
    while _wrap(text, width).count("\n") >= lines:
        width += 1
    return _wrap(text, width)


def _grid(
    colours: np.ndarray,
    texts: Sequence[Sequence[str]],
    rows: Sequence[str],
    columns: Sequence[str],
    extra: float,
    aside: float = 0.0,
) -> tuple[Figure, Axes]:
    """A table of coloured cells, each with its figure in black or white (whichever reads
    best on it), row labels on the left and column heads on top, turned upright.

    Every cell is at least as wide as its widest figure needs; the row labels wrap to the
    width such cells leave, each column head into as many lines as its column is wide.
    `extra`: inches the figure needs above or below the grid (colour bars, an axis title);
    `aside`: beside the row labels (an axis title).
    """
    least = max(_text_inches(text) for row in texts for text in row) + 5 / 72
    beside = CHART_WIDTH - aside - 0.15  # the row labels' and cells' width, within the pads
    rows = [_fitted(row, beside - len(columns) * least) for row in rows]
    cell = (beside - max(_text_inches(row) for row in rows)) / len(columns)
    columns = [_in_lines(column, max(1, int(cell // LINE))) for column in columns]
    pitch = max(0.34, max(row.count("\n") + 1 for row in rows) * LINE + 0.08)
    heads = max(_text_inches(column) for column in columns)
    figure, axis = _figure(len(rows) * pitch + heads + 0.15 + extra)
    # seaborn's heat map draws the cells: each cell's value is its own index into a
    # colour map of the cells' colours, as every row may follow a scale of its own.
    sns.heatmap(
        np.arange(colours.shape[0] * colours.shape[1]).reshape(colours.shape[:2]),
        cmap=ListedColormap(colours.reshape(-1, colours.shape[-1])),
        vmin=-0.5,
        vmax=colours.shape[0] * colours.shape[1] - 0.5,
        cbar=False,
        linewidths=1.5,
        linecolor="white",
        xticklabels=False,  # set below, wrapped and upright: seaborn would turn them
        yticklabels=False,
        ax=axis,
    )
    for (row, column), text in np.ndenumerate(np.array(texts, dtype=object)):
        ink = _ink(colours[row, column])
        axis.text(column + 0.5, row + 0.5, text, ha="center", va="center", color=ink)
    axis.set_ylim(len(rows), 0)
    axis.set_yticks(np.arange(len(rows)) + 0.5, rows)
    axis.set_xticks(np.arange(len(columns)) + 0.5, columns, rotation=90)
    axis.xaxis.tick_top()
    axis.xaxis.set_label_position("top")
    axis.tick_params(length=0)
    for spine in axis.spines.values():
        spine.set_visible(False)
    return figure, axis


class _Wording:
    """Chart titles and alt text, rendered from the charts.yaml templates."""

    def __init__(
        self,
        path: Path,
        formatter: Formatter,
        counts: str | None = None,
        words: Wording = ENGLISH,
    ) -> None:
        self.text = yamlfile.load(path, "chart wording")
        self.path = path
        self.environment = sandbox(formatter, words)
        self.words = words
        """Each text is looked up by its English source in the reader's language."""
        self.formatter = formatter
        """Writes the figures drawn on the charts (bar labels, axes) in the report's locale."""
        self.counts = counts
        """What frequency counts ("orders" or "items"): its label says so when the wording
        has frequency_orders / frequency_items."""

    def __call__(self, *keys: str, **context: Any) -> str:
        source = self.words.text(str(self._source(keys)))
        text = render_user(
            partial(self.environment.from_string, source),
            plain(context),
            f"chart wording {self.path}: {'.'.join(keys)}",
        )
        return " ".join(text.split())

    def _source(self, keys: tuple[str, ...]) -> Any:
        """The wording at `keys`. A user's own charts.yaml written for an earlier
        reportgen lacks the wording of charts added since (the trend): for those, the
        bundled wording is used rather than failing a scheduled run; a key the bundled
        file lacks too is a mistake, and an error."""
        for text in (self.text, self._bundled()):
            value = text
            try:
                for key in keys:
                    value = value[key]
                return value
            except (KeyError, TypeError):
                continue
        raise ConfigError(f"chart wording {self.path}: {'.'.join(keys)} is missing")

    def _bundled(self) -> Any:
        default = templates_dir() / "charts.yaml"
        return self.text if self.path == default else yamlfile.load(default, "chart wording")

    def role(self, role: str) -> str:
        labels = self.text.get("role_labels", {})
        if role == "frequency" and f"frequency_{self.counts}" in labels:
            return self.words.text(str(labels[f"frequency_{self.counts}"]))
        return self.words.text(str(labels.get(role, role)))


def _percent_axis(side: Any, words: _Wording) -> None:
    """Axis ticks of shares as percentages in the report's locale ("20 %" in German), at
    steps of 1, 2 or 5 (times a power of ten) and with the decimals the steps need."""
    side.set_major_locator(matplotlib.ticker.MaxNLocator("auto", steps=list(_STEPS)))
    side.set_major_formatter(_PercentTicks(words.formatter))


def _sizes(
    segments: Shown, revenue_known: bool, names: list[str], words: _Wording, context: Context
) -> Chart:
    bars: list[tuple[str, list[float], dict[str, Any]]] = [
        (words("sizes", "customers"), [s.share for s in segments], {})
    ]
    if revenue_known:
        revenue = [s.revenue_share or 0.0 for s in segments]
        style = {"alpha": 0.45, "hatch": "///", "edgecolor": "white"}
        bars.append((words("sizes", "revenue"), revenue, style))
    pitch = NAME_ROOM + BAR * (1 + len(bars)) / 2  # a second bar takes half as much again
    figure, axis = _figure(len(names) * pitch + 0.45)
    centres, band = _named_rows(axis, names, pitch)
    height = band / len(bars)
    colors = [color(s.id) for s in segments]
    shown = [value for _, values, _ in bars for value in values]
    decimals = _share_decimals(shown)
    for n, (label, values, style) in enumerate(bars):
        y = centres - band / 2 + height * (n + 0.5)
        axis.barh(y, values, height=height * 0.92, color=colors, label=label, **style)
        for value, at in zip(values, y, strict=True):
            text = words.formatter.percent(value, decimals)
            axis.annotate(text, (value, at), xytext=(3, 0), textcoords="offset points", va="center")
    axis.set_xlim(0, max([*shown, 0.01]) * 1.18)  # room for the figure after the longest bar
    _percent_axis(axis.xaxis, words)
    _legend_above(figure, axis)
    _plot_height(figure, axis, len(names) * pitch + _FOOT)
    return Chart(
        "sizes",
        words("sizes", "title"),
        words("sizes", "alt", **context),
        _svg(figure, words.formatter),
    )


def _heatmap(segments: Shown, names: list[str], words: _Wording, context: Context) -> Chart:
    """A row per role and a column per segment, so that eight segments still fit a phone.
    A role with a direction (Role.better) is coloured by better or worse than the average
    customer, orange to blue; any other in grey, by how far from the average it is. Each
    cell shows its real z-score."""
    roles = list(segments[0].stats)
    z = np.array([[s.stats[r].z for s in segments] for r in roles])
    limit = max(1.0, float(np.abs(z).max()))
    direction = np.array([ROLE_BY_NAME[r].better for r in roles])[:, None]
    better = _BETTER_COLOURS(Normalize(-limit, limit)(z * direction))
    neutral = _NEUTRAL_COLOURS(np.abs(z) / limit)
    colours = np.where(direction[..., None] != 0, better, neutral)[..., :3]
    keys = [bool(direction.any()), not direction.all()]  # a colour bar for each kind of row
    texts = [[words.formatter.signed(float(v), 1) for v in row] for row in z]
    figure, axis = _grid(
        colours, texts, [words.role(r) for r in roles], names, extra=0.65 * sum(keys)
    )
    scales = (
        (_BETTER_COLOURS, -limit, limit, ("worse", "average", "better"), None),
        (_NEUTRAL_COLOURS, 0.0, limit, ("average", "far"), "neutral"),
    )
    # Constrained layout puts the last colour bar made nearest the grid: better or worse.
    for shown, scale in reversed(list(zip(keys, scales, strict=True))):
        if not shown:
            continue
        colours_of, low, high, ticks, label = scale
        key = figure.colorbar(
            ScalarMappable(Normalize(low, high), colours_of),
            ax=axis,
            location="bottom",
            aspect=40,
            pad=0.02,
        )
        key.set_ticks(np.linspace(low, high, len(ticks)).tolist())
        key.set_ticklabels([words("heatmap", tick) for tick in ticks])
        key.ax.tick_params(length=0)
        key.outline.set_visible(False)
        first, *_, last = key.ax.get_xticklabels()
        first.set_horizontalalignment("left")
        last.set_horizontalalignment("right")
        if label:
            key.set_label(words("heatmap", label))
    return Chart(
        "heatmap",
        words("heatmap", "title"),
        words("heatmap", "alt", **context),
        _svg(figure, words.formatter),
    )


def _scatter(data: ChartData, words: _Wording, context: Context) -> Chart:
    points = np.column_stack([data.scatter_x, data.scatter_y])
    labels = np.array(data.scatter_segment)
    figure, axis = _figure(3.6)
    for segment_id, centre in data.centres.items():
        mine = labels == segment_id
        axis.scatter(
            points[mine, 0],
            points[mine, 1],
            s=7,
            alpha=0.55,
            color=color(segment_id),
            linewidths=0,
            rasterized=True,
            label=str(segment_id),
        )
        axis.scatter(
            *centre,
            s=140,
            marker="X",
            color=color(segment_id),
            edgecolor="white",
            linewidth=1.2,
        )
    ratio = data.explained
    label = words("scatter", "axis")
    axis.set_xlabel(f"{label} 1 ({words.formatter.percent(ratio[0], 0)})")
    axis.set_ylabel(f"{label} 2 ({words.formatter.percent(ratio[1], 0)})")
    _legend_above(figure, axis, markerscale=2)
    return Chart(
        "scatter",
        words("scatter", "title"),
        words("scatter", "alt", plotted=len(labels), **context),
        _svg(figure, words.formatter),
    )


def _distribution(
    role: str,
    data: ChartData,
    names: list[str],
    segments: Shown,
    words: _Wording,
) -> Chart:
    formatter = words.formatter
    values = np.array(data.distributions[role])
    labels = np.array(data.sample_segment)
    groups = [values[labels == s.id] for s in segments]
    figure, axis = _figure(len(names) * (NAME_ROOM + BAR) + 0.55)
    centres, band = _named_rows(axis, names, NAME_ROOM + BAR)
    boxes = axis.boxplot(
        groups,
        positions=centres,
        orientation="horizontal",
        patch_artist=True,
        widths=band,
        showfliers=False,
        medianprops={"color": "black"},
        manage_ticks=False,
    )
    for patch, segment in zip(boxes["boxes"], segments, strict=True):
        patch.set_facecolor(color(segment.id))
        patch.set_alpha(0.8)
    axis.set_xlabel(words.role(role))
    if ROLE_FORMATS.get(role) == "money":
        _money_axis(axis.xaxis, formatter)
    _plot_height(figure, axis, len(names) * (NAME_ROOM + BAR) + _FOOT)
    show = formatter.money if role == "spend" else formatter.number
    medians = [
        {"name": n, "median": show(s.stats[role].median)}
        for n, s in zip(names, segments, strict=True)
    ]
    return Chart(
        f"distribution-{role}",
        words("distribution", "title", role=words.role(role)),
        words("distribution", "alt", role=words.role(role), segments=medians),
        _svg(figure, words.formatter),
    )


MIX_LABEL_SHARE = 0.12
"""The narrowest part of a mix bar that shows its share: "100 %" at TEXT_PT fits in it."""


def _mix(
    role: str, profiles: Profiles, segments: Shown, names: list[str], words: _Wording
) -> Chart:
    values = list(profiles.base_mix[role])
    figure, axis = _figure(len(names) * (NAME_ROOM + BAR) + 0.3)
    centres, band = _named_rows(axis, names, NAME_ROOM + BAR)
    left = np.zeros(len(names))
    shades = plt.get_cmap("Greys")(np.linspace(0.25, 0.85, len(values)))
    parts = {value: np.array([s.mix[role].get(value, 0.0) for s in segments]) for value in values}
    decimals = _share_decimals(
        [w for widths in parts.values() for w in widths if w >= MIX_LABEL_SHARE]
    )
    for (value, widths), shade in zip(parts.items(), shades, strict=True):
        # Values come grouped from profile (the named ones and "Other (N values)"); the
        # legend cuts each as the report does, or one long value would push the bars away.
        axis.barh(
            centres,
            widths,
            left=left,
            height=band,
            color=shade,
            edgecolor="white",
            label=clip(words.words.data(value)),
        )
        for start, width, y in zip(left, widths, centres, strict=True):
            if width >= MIX_LABEL_SHARE:
                axis.text(
                    start + width / 2,
                    y,
                    words.formatter.percent(width, decimals),
                    ha="center",
                    va="center",
                    color=_ink(shade),
                )
        left += widths
    _percent_axis(axis.xaxis, words)
    _legend_above(figure, axis)
    _plot_height(figure, axis, len(names) * (NAME_ROOM + BAR) + _FOOT)
    mixes = [{"name": n, "mix": s.mix[role]} for n, s in zip(names, segments, strict=True)]
    return Chart(
        f"mix-{role}",
        words("mix", "title", role=words.role(role)),
        words("mix", "alt", role=words.role(role), segments=mixes),
        _svg(figure, words.formatter),
    )


SUBPLOT_TITLE_WIDTH = 22
"""The most characters a line of a small subplot's title takes (the k-selection chart's
four): wider titles ran into their neighbours, in German first."""


def _subplot_title(text: str, width: int = SUBPLOT_TITLE_WIDTH) -> str:
    """`text` wrapped to a narrow subplot: a note in parentheses ("(higher is better)")
    starts a line of its own, and each part is wrapped at `width` characters."""
    name, bracket, note = text.partition(" (")
    parts = [part for part in (name, bracket.strip() + note) if part.strip()] or [text]
    return "\n".join(_wrap(part, width) for part in parts)


def _selection(segmentation: SegmentationSummary, words: _Wording) -> Chart:
    """The four criteria as a 2 × 2 grid sharing the k axis, so each panel is half the
    chart's width rather than a quarter of it."""
    criteria = ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin")
    ks = [s.k for s in segmentation.scores]
    figure, axes = _figure(3.8, 2, 2, sharex=True)
    for axis, criterion in zip(axes.flat, criteria, strict=True):
        values = [getattr(s, criterion) for s in segmentation.scores]
        axis.plot(ks, values, marker="o", markersize=3.5, color="#555555")
        chosen = ks.index(segmentation.k)  # a k set by the user is scored too
        axis.plot(
            ks[chosen],
            values[chosen],
            marker="o",
            markersize=8,
            color=PALETTE[3],
            label=words("selection", "chosen"),
            clip_on=False,  # drawn whole where the best score sits on the plot's edge
            zorder=3,
        )
        axis.set_title(_subplot_title(words("selection", "criteria", criterion)))
        axis.set_xticks(ks)
        axis.margins(x=0.08, y=0.12)
    for axis in axes[-1]:
        axis.set_xlabel("k")
    return Chart(
        "selection",
        words("selection", "title"),
        words(
            "selection", "alt", ks=ks, chosen_k=segmentation.k, silhouette=segmentation.silhouette
        ),
        _svg(figure, words.formatter),
    )


def _profile(segment_id: int, name: str, stats: Mapping[str, RoleStats], words: _Wording) -> Chart:
    roles = list(stats)
    z = [stats[r].z for r in roles]
    labels = [words.role(r) for r in roles]  # on one line: a bar chart has the room
    figure, axis = _figure(0.3 * len(roles) + 0.55)
    axis.barh(range(len(roles)), z, color=color(segment_id), height=0.6)
    axis.axvline(0, color="#333333", linewidth=0.8)
    axis.set_yticks(range(len(roles)), labels)
    axis.invert_yaxis()
    limit = max(1.0, max(abs(v) for v in z)) * 1.45  # room for the figure beside each bar
    axis.set_xlim(-limit, limit)
    axis.set_xlabel("z")
    for i, value in enumerate(z):
        axis.annotate(
            words.formatter.signed(value, 1),
            (value, i),
            xytext=(3 if value >= 0 else -3, 0),
            textcoords="offset points",
            va="center",
            ha="left" if value >= 0 else "right",
        )
    context = {"name": name, "stats": stats, "roles": {r: words.role(r) for r in roles}}
    return Chart(
        f"profile-{segment_id}",
        words("profile", "title", name=name),
        words("profile", "alt", **context),
        _svg(figure, words.formatter),
    )


def _migration_counts(
    migration: Migration, sources: list[int], targets: list[int], regrouped: bool
) -> tuple[np.ndarray, list[Move]]:
    """The grid of _migration: customers per (previous segment, segment now), and the
    moves it shows."""
    if regrouped:
        moves = list(migration.regroupings)
    else:
        stayed = [m for m in migration.moves if m.source == m.target]
        moves = stayed + list(migration.changes if migration.scored else migration.between)
    shown = [m for m in moves if m.target in targets]
    counts = np.zeros((len(sources), len(targets)), dtype=int)
    for move in shown:
        counts[sources.index(move.source), targets.index(move.target)] = move.customers
    return counts, shown


def _migration(
    migration: Migration, ids: tuple[int, ...], names: list[str], words: _Wording, regrouped: bool
) -> Chart:
    """Customers by previous and current segment, for the segments shown now: those who
    stayed (on the diagonal, in grey) and those who changed (in blue), or, `regrouped`,
    those the segments were redrawn around (in orange). Before changes could be told
    from regroupings (Migration.scored), the first chart holds every move."""
    sources, targets = sorted(migration.previous_names), list(ids)
    counts, shown = _migration_counts(migration, sources, targets, regrouped)
    same = np.array([[s == t for t in targets] for s in sources], dtype=bool)
    scale = plt.get_cmap("Oranges" if regrouped else "Blues")
    colours = scale(counts / max(1, counts[~same].max(initial=0)))[..., :3]
    grey = 0.25 + 0.5 * counts[same] / max(1, counts.max())
    colours[same] = plt.get_cmap("Greys")(grey)[:, :3]
    texts = [[words.formatter.number(int(v)) for v in row] for row in counts]
    for row, column in zip(*np.nonzero(same & regrouped), strict=True):
        texts[row][column] = ""  # nobody is regrouped into the segment they were in
    rows = [f"{i} · {migration.previous_names[i]}" for i in sources]
    figure, axis = _grid(colours, texts, rows, names, extra=LINE + 0.05, aside=LINE + 0.05)
    axis.set_xlabel(words("migration", "now"))
    month = words.formatter.month(migration.previous_period)
    axis.set_ylabel(words("migration", "before", period=month))
    flows = [
        {
            "source": rows[sources.index(m.source)],
            "target": names[targets.index(m.target)],
            "customers": m.customers,
        }
        for m in shown
        if m.source != m.target
    ]
    kind = "regrouping" if regrouped else "migration"
    context = {
        "period": month,
        "stayed": migration.stayed,
        "scored": migration.scored,
        "moves": flows[:5],
    }
    return Chart(
        kind,
        words(kind, "title", **context),
        words(kind, "alt", **context),
        _svg(figure, words.formatter),
    )


def _month_ticks(trend: Trend, formatter: Formatter) -> tuple[list[int], list[str]]:
    """Each period's place (months from the first, so a gap in the archive shows as one)
    and its label: the short month, with the year under the first and under each January."""
    first = trend.points[0].period
    places, labels = [], []
    for n, point in enumerate(trend.points):
        places.append(periods.span(first, point.period) - 1)
        name = formatter.month_short(point.period)
        year = point.period[:4]
        labels.append(f"{name}\n{year}" if n == 0 or point.period.endswith("-01") else name)
    return places, labels


def _trend_label(line: Series, words: _Wording) -> str:
    """A segment's legend entry, marked when it appeared or disappeared within the trend."""
    marks = [
        words("trend", key, period=words.formatter.month_short(period, year=True))
        for key, period in (("new", line.appeared), ("gone", line.disappeared))
        if period
    ]
    return _wrap(" ".join([f"{line.id} · {line.name}", *marks]), 2 * LABEL_WIDTH)


def _trend(trend: Trend, words: _Wording) -> Chart:
    """Each segment's share of customers (and of revenue) per period, a line per segment
    in its colour; a segment shown in one period only is a lone dot."""
    measures = [("customers", "shares")]
    if trend.revenue_known:
        measures.append(("revenue", "revenue_shares"))
    figure, axes = _figure(2.2 * len(measures) + 0.5, len(measures), 1, sharex=True, squeeze=False)
    places, labels = _month_ticks(trend, words.formatter)
    for axis, (measure, field) in zip(axes[:, 0], measures, strict=True):
        for line in trend.series:
            shares = [np.nan if v is None else v for v in getattr(line, field)]
            lap = (line.id - 1) // len(PALETTE)  # a ninth segment reuses the first colour
            axis.plot(
                places,
                shares,
                marker="os^D"[lap % 4],
                linestyle=("-", "--", ":", "-.")[lap % 4],
                markersize=4,
                color=color(line.id),
                label=_trend_label(line, words),
            )
        axis.set_title(_subplot_title(words("trend", measure)))
        axis.set_ylim(bottom=0)
        _percent_axis(axis.yaxis, words)
        axis.margins(x=0.04)
    axes[-1, 0].set_xticks(places, labels)
    _legend_above(figure, axes[0, 0])
    return Chart(
        "trend",
        words("trend", "title", months=trend.months, revenue_known=trend.revenue_known),
        words(
            "trend",
            "alt",
            first=words.formatter.month(trend.points[0].period),
            last=words.formatter.month(trend.points[-1].period),
            series=[
                {
                    "name": f"{s.id} · {s.name}",
                    "points": [
                        {
                            "period": words.formatter.month_short(point.period, year=True),
                            "share": share,
                            "revenue": revenue,
                        }
                        for point, share, revenue in zip(
                            trend.points, s.shares, s.revenue_shares, strict=True
                        )
                        if share is not None
                    ],
                }
                for s in trend.series
            ],
            revenue_known=trend.revenue_known,
        ),
        _svg(figure, words.formatter),
    )


def _overview(
    findings: Findings, segments: Shown, names: list[str], words: _Wording, context: Context
) -> list[Chart]:
    """The charts comparing the segments shown (none when every one is too small)."""
    if not segments:
        return []
    profiles, data = findings.profiles, findings.plots
    return [
        _heatmap(segments, names, words, context),
        _scatter(data, words, context),
        *(_distribution(role, data, names, segments, words) for role in data.distributions),
        *(
            _mix(role, profiles, segments, names, words)
            for role in MIX_ROLES
            if role in profiles.base_mix
        ),
    ]


def _context(pairs: list[tuple[SegmentProfile, Persona]], words: _Wording) -> Context:
    """What every chart's alt text may quote about the segments shown."""
    roles = list(pairs[0][0].stats) if pairs else []
    return {
        "segments": [
            {
                "id": s.id,
                "name": p.name,
                "size": s.size,
                "share": s.share,
                "revenue_share": s.revenue_share,
                "stats": s.stats,
            }
            for s, p in pairs
        ],
        "k": len(pairs),
        "roles": {r: words.role(r) for r in roles},
    }


def trend_chart(trend: Trend, wording: Path, formatter: Formatter, language: Wording) -> Chart:
    """The trend chart alone, for the archive's index page (archive_index.py)."""
    with plt.rc_context(_STYLE):
        return _trend(trend, _Wording(wording, formatter, None, language))


def build_charts(
    findings: Findings,
    personas: Personas,
    wording: Path,
    formatter: Formatter,
    language: Wording = ENGLISH,
) -> Charts:
    """Draw every chart of the report from what the analysis found.

    Suppressed segments (too small to describe) appear in no chart and no alt text.
    """
    profiles, migration = findings.profiles, findings.migration
    words = _Wording(wording, formatter, profiles.frequency_counts, language)
    pairs = [
        (s, p)
        for s, p in zip(profiles.segments, personas.segments, strict=True)
        if not s.suppressed
    ]
    segments = [s for s, _ in pairs]
    names = [f"{s.id} · {p.name}" for s, p in pairs]
    context = _context(pairs, words)
    with plt.rc_context(_STYLE):
        sizes = _sizes(segments, profiles.revenue is not None, names, words, context)
        overview = _overview(findings, segments, names, words, context)
        selection = _selection(findings.segmentation, words)
        per_segment = {s.id: _profile(s.id, p.name, s.stats, words) for s, p in pairs}
        shown = tuple(s.id for s in segments)
        moves = regrouping = None  # also when every segment is too small to show
        if migration and segments and migration.previous_names:
            moves = _migration(migration, shown, names, words, False)
            if migration.regrouped:
                regrouping = _migration(migration, shown, names, words, True)
        across = trend_of(findings, personas)
        over_time = _trend(across, words) if across and across.series else None
    return Charts(
        sizes=sizes,
        overview=tuple(overview),
        selection=selection,
        per_segment=per_segment,
        migration=moves,
        regrouping=regrouping,
        trend=over_time,
        colors={s.id: color(s.id) for s in profiles.segments},
        role_labels={role.name: words.role(role.name) for role in ROLES},
    )
