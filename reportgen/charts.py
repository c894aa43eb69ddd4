"""Every figure of the report, each with a title and alt text, as inline SVG.

Charts use matplotlib's Agg backend and one colour per segment id from the
Okabe–Ito palette (safe for colour-blind readers), so a segment has the same
colour in every chart and every month. Large data is plotted from a seeded
sample; every number quoted in alt text comes from `profile`, on all rows.
Titles and alt text are templates (templates/charts.yaml), not code.
"""

from __future__ import annotations

import io
import itertools
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from reportgen import yamlfile
from reportgen.errors import ConfigError
from reportgen.findings import ChartData, Findings
from reportgen.formatting import ROLE_FORMATS, Formatter, clip
from reportgen.history import Migration
from reportgen.personas import Personas, sandbox
from reportgen.plain import plain
from reportgen.profile import Profiles, SegmentProfile
from reportgen.roles import ROLES
from reportgen.segment import SegmentationSummary
from reportgen.wording import ENGLISH, Wording

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
MIX_ROLES = ("tier", "satisfaction")
_STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
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


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    alt: str
    svg: str


@dataclass(frozen=True)
class Charts:
    sizes: Chart
    """Customers and revenue per segment (executive summary)."""
    overview: tuple[Chart, ...]
    """Charts comparing all segments."""
    selection: Chart
    """The evidence for k (method section)."""
    per_segment: Mapping[int, Chart]
    migration: Chart | None
    """Customers by previous and current segment; None without a previous period."""
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
    if formatter is not None:  # plain number ticks follow the locale too
        for axis in figure.axes:
            for side in (axis.xaxis, axis.yaxis):
                ticks = side.get_major_formatter()
                if isinstance(ticks, matplotlib.ticker.ScalarFormatter):
                    side.set_major_formatter(_NumberTicks(formatter))
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inlined as is


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
        try:
            value = self.text
            for key in keys:
                value = value[key]
            text = self.environment.from_string(self.words.text(str(value))).render(plain(context))
            return " ".join(text.split())
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"chart wording {self.path}: {'.'.join(keys)} is missing") from exc
        except Exception as exc:  # a template error in a user's file
            raise ConfigError(f"chart wording {self.path}: {'.'.join(keys)}: {exc}") from None

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
    segments: Shown, revenue_known: bool, names: list[str], words: _Wording, context: dict
) -> Chart:
    k = len(names)
    figure, axis = plt.subplots(figsize=(7, 0.45 * k + 1.2))
    y = np.arange(k)
    shares = [s.share for s in segments]
    colors = [color(s.id) for s in segments]
    percent = words.formatter.percent
    axis.barh(y - 0.2, shares, height=0.38, color=colors, label=words("sizes", "customers"))
    if revenue_known:
        revenue = [s.revenue_share or 0 for s in segments]
        axis.barh(
            y + 0.2,
            revenue,
            height=0.38,
            color=colors,
            alpha=0.45,
            hatch="///",
            edgecolor="white",
            label=words("sizes", "revenue"),
        )
        for i, value in enumerate(revenue):
            axis.text(value + 0.005, i + 0.2, percent(value, 0), va="center", fontsize=8)
    for i, value in enumerate(shares):
        axis.text(value + 0.005, i - 0.2, percent(value, 0), va="center", fontsize=8)
    axis.set_yticks(y, names)
    axis.invert_yaxis()
    _percent_axis(axis.xaxis, words)
    axis.legend(loc="lower right", frameon=False)
    return Chart(
        "sizes",
        words("sizes", "title"),
        words("sizes", "alt", **context),
        _svg(figure, words.formatter),
    )


def _heatmap(segments: Shown, names: list[str], words: _Wording, context: dict) -> Chart:
    roles = list(segments[0].stats)
    z = np.array([[s.stats[r].z for r in roles] for s in segments])
    figure, axis = plt.subplots(figsize=(7, 0.45 * len(names) + 1.6))
    limit = max(1.0, float(np.abs(z).max()))
    sns.heatmap(
        z,
        ax=axis,
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        center=0,
        annot=[[words.formatter.signed(float(v), 1) for v in row] for row in z],
        fmt="",
        annot_kws={"fontsize": 8},
        linewidths=0.5,
        linecolor="white",
        xticklabels=[words.role(r) for r in roles],
        yticklabels=names,
        cbar_kws={"fraction": 0.03, "pad": 0.02},
    )
    axis.set_xticklabels(axis.get_xticklabels(), rotation=30, ha="right")
    axis.tick_params(length=0)
    return Chart(
        "heatmap",
        words("heatmap", "title"),
        words("heatmap", "alt", **context),
        _svg(figure, words.formatter),
    )


def _scatter(data: ChartData, words: _Wording, context: dict) -> Chart:
    points = np.column_stack([data.scatter_x, data.scatter_y])
    labels = np.array(data.scatter_segment)
    figure, axis = plt.subplots(figsize=(7, 4.2))
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
    axis.legend(title="", loc="best", frameon=False, markerscale=2, fontsize=8)
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
    formatter: Formatter,
) -> Chart:
    values = np.array(data.distributions[role])
    labels = np.array(data.sample_segment)
    groups = [values[labels == s.id] for s in segments]
    figure, axis = plt.subplots(figsize=(7, 0.42 * len(names) + 1.0))
    boxes = axis.boxplot(
        groups,
        orientation="horizontal",
        patch_artist=True,
        widths=0.6,
        showfliers=False,
        medianprops={"color": "black"},
    )
    for patch, segment in zip(boxes["boxes"], segments, strict=True):
        patch.set_facecolor(color(segment.id))
        patch.set_alpha(0.8)
    axis.set_yticks(range(1, len(names) + 1), names)
    axis.invert_yaxis()
    axis.set_xlabel(words.role(role))
    if ROLE_FORMATS.get(role) == "money":
        _money_axis(axis.xaxis, formatter)
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


def _mix(
    role: str, profiles: Profiles, segments: Shown, names: list[str], words: _Wording
) -> Chart:
    values = list(profiles.base_mix[role])
    figure, axis = plt.subplots(figsize=(7, 0.42 * len(names) + 1.2))
    left = np.zeros(len(names))
    shades = plt.get_cmap("Greys")(np.linspace(0.25, 0.85, len(values)))
    for value, shade in zip(values, shades, strict=True):
        widths = np.array([s.mix[role].get(value, 0.0) for s in segments])
        # Values come grouped from profile (the named ones and "Other (N values)"); the
        # legend cuts each as the report does, or one long value would push the bars away.
        axis.barh(
            range(len(names)),
            widths,
            left=left,
            color=shade,
            edgecolor="white",
            label=clip(words.words.data(value)),
        )
        for i, (start, width) in enumerate(zip(left, widths, strict=True)):
            if width >= 0.08:
                axis.text(
                    start + width / 2,
                    i,
                    words.formatter.percent(width, 0),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if shade[0] < 0.5 else "black",
                )
        left += widths
    axis.set_yticks(range(len(names)), names)
    axis.invert_yaxis()
    _percent_axis(axis.xaxis, words)
    axis.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=min(len(values), 5), frameon=False
    )
    mixes = [{"name": n, "mix": s.mix[role]} for n, s in zip(names, segments, strict=True)]
    return Chart(
        f"mix-{role}",
        words("mix", "title", role=words.role(role)),
        words("mix", "alt", role=words.role(role), segments=mixes),
        _svg(figure, words.formatter),
    )


SUBPLOT_TITLE_WIDTH = 26
"""The most characters a line of a small subplot's title takes (the k-selection chart's
four): wider titles ran into their neighbours, in German first."""


def _subplot_title(text: str, width: int = SUBPLOT_TITLE_WIDTH) -> str:
    """`text` wrapped to a narrow subplot: a note in parentheses ("(higher is better)")
    starts a line of its own, and each part is wrapped at `width` characters."""
    name, bracket, note = text.partition(" (")
    parts = [part for part in (name, bracket.strip() + note) if part.strip()] or [text]
    return "\n".join(
        "\n".join(textwrap.wrap(part, width, break_long_words=False) or [part]) for part in parts
    )


def _selection(segmentation: SegmentationSummary, words: _Wording) -> Chart:
    criteria = ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin")
    ks = [s.k for s in segmentation.scores]
    figure, axes = plt.subplots(1, 4, figsize=(7.2, 2.3))
    for axis, criterion in zip(axes, criteria, strict=True):
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
        )
        axis.set_title(_subplot_title(words("selection", "criteria", criterion)), fontsize=7.5)
        axis.set_xticks(ks)
        axis.tick_params(labelsize=7)  # grouped numbers in _svg ("8,000"), never "1e3"
        axis.set_xlabel("k", fontsize=8)
    figure.tight_layout()
    return Chart(
        "selection",
        words("selection", "title"),
        words(
            "selection", "alt", ks=ks, chosen_k=segmentation.k, silhouette=segmentation.silhouette
        ),
        _svg(figure, words.formatter),
    )


def _profile(segment_id: int, name: str, stats: Mapping, words: _Wording) -> Chart:
    roles = list(stats)
    z = [stats[r].z for r in roles]
    figure, axis = plt.subplots(figsize=(6.2, 0.32 * len(roles) + 0.9))
    axis.barh(range(len(roles)), z, color=color(segment_id), height=0.6)
    axis.axvline(0, color="#333333", linewidth=0.8)
    axis.set_yticks(range(len(roles)), [words.role(r) for r in roles])
    axis.invert_yaxis()
    limit = max(1.0, max(abs(v) for v in z) * 1.15)
    axis.set_xlim(-limit, limit)
    axis.set_xlabel("z")
    for i, value in enumerate(z):
        axis.text(
            value + (0.04 if value >= 0 else -0.04),
            i,
            words.formatter.signed(value, 1),
            va="center",
            ha="left" if value >= 0 else "right",
            fontsize=8,
        )
    context = {"name": name, "stats": stats, "roles": {r: words.role(r) for r in roles}}
    return Chart(
        f"profile-{segment_id}",
        words("profile", "title", name=name),
        words("profile", "alt", **context),
        _svg(figure, words.formatter),
    )


def _migration(
    migration: Migration, ids: tuple[int, ...], names: list[str], words: _Wording
) -> Chart:
    """Customers by previous and current segment, for the segments shown now."""
    sources = sorted(migration.previous_names)
    targets = list(ids)
    counts = np.zeros((len(sources), len(targets)), dtype=int)
    shown = [m for m in migration.moves if m.target in targets]
    for move in shown:
        counts[sources.index(move.source), targets.index(move.target)] = move.customers
    rows = [f"{i} · {migration.previous_names[i]}" for i in sources]
    figure, axis = plt.subplots(figsize=(7, 0.45 * len(rows) + 2.2))
    sns.heatmap(
        counts,
        ax=axis,
        cmap="Blues",
        annot=[[words.formatter.number(int(v)) for v in row] for row in counts],
        fmt="",
        annot_kws={"fontsize": 8},
        linewidths=0.5,
        linecolor="white",
        xticklabels=names,
        yticklabels=rows,
        cbar=False,
    )
    axis.set_xticklabels(axis.get_xticklabels(), rotation=30, ha="right")
    axis.set_xlabel(words("migration", "now"))
    axis.set_ylabel(words("migration", "before", period=migration.previous_period))
    axis.tick_params(length=0)
    moves = [
        {
            "source": rows[sources.index(m.source)],
            "target": names[targets.index(m.target)],
            "customers": m.customers,
        }
        for m in shown
        if m.source != m.target
    ]
    return Chart(
        "migration",
        words("migration", "title", period=migration.previous_period),
        words(
            "migration",
            "alt",
            period=migration.previous_period,
            stayed=migration.stayed,
            moves=moves[:5],
        ),
        _svg(figure, words.formatter),
    )


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
    profiles, segmentation, data = findings.profiles, findings.segmentation, findings.plots
    words = _Wording(wording, formatter, profiles.frequency_counts, language)
    pairs = [
        (s, p)
        for s, p in zip(profiles.segments, personas.segments, strict=True)
        if not s.suppressed
    ]
    segments = [s for s, _ in pairs]
    names = [f"{s.id} · {p.name}" for s, p in pairs]
    roles = list(segments[0].stats) if segments else []
    context = {
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
        "k": len(segments),
        "roles": {r: words.role(r) for r in roles},
    }
    with plt.rc_context(_STYLE):
        sizes = _sizes(segments, profiles.revenue is not None, names, words, context)
        overview = []
        if segments:
            overview += [
                _heatmap(segments, names, words, context),
                _scatter(data, words, context),
            ]
            overview += [
                _distribution(role, data, names, segments, words, formatter)
                for role in data.distributions
            ]
            overview += [
                _mix(role, profiles, segments, names, words)
                for role in MIX_ROLES
                if role in profiles.base_mix
            ]
        selection = _selection(segmentation, words)
        per_segment = {s.id: _profile(s.id, p.name, s.stats, words) for s, p in pairs}
        migration = findings.migration
        moves = (
            _migration(migration, tuple(s.id for s in segments), names, words)
            if migration and segments and migration.previous_names
            else None  # every segment too small to show: there is nothing to draw
        )
    return Charts(
        sizes=sizes,
        overview=tuple(overview),
        selection=selection,
        per_segment=per_segment,
        migration=moves,
        colors={s.id: color(s.id) for s in profiles.segments},
        role_labels={role.name: words.role(role.name) for role in ROLES},
    )
