"""Charts for the agenda document, drawn from plain data as PNG bytes with matplotlib."""
# Only matplotlib's object API is used (Figure and the Agg canvas, never pyplot), so a chart
# leaves no global state behind and two threads can draw at once. The text is set in DejaVu
# Sans, which ships with matplotlib, so a chart looks the same on every machine.
import io
import textwrap
import unicodedata
from functools import lru_cache

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import MaxNLocator

DPI = 200
FONT = "DejaVu Sans"
CM = 1 / 2.54
_CHAR_WIDTH = 0.56 / 72  # DejaVu Sans: a character is about 0.56 em wide; inches per point
MISSING = "\u25a1"  # a white square stands for a character DejaVu Sans cannot draw

# An image carries its own colours (Word styles cannot reach inside a PNG), so they are
# set here: the Okabe-Ito palette, which readers with colour blindness tell apart.
GROUP_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                 "#F0E442", "#999999")
INK = "#1F3864"
GRID = "#D9D9D9"
QUADRANT_FILLS = {"quick_win": "#E3F1E6", "major_project": "#E3ECF7",
                  "fill_in": "#F2F2F2", "reconsider": "#FBE9E1"}


def support_chart(bars: list[tuple[str, list[float]]], groups: list[str], value_label: str,
                  width_cm: float = 16.0) -> bytes:
    """Horizontal bars, one per (title, values per group), stacked by group, as PNG."""
    labels = [_wrapped(title, 34, 3) for title, _values in bars]
    legend_rows = -(-len(groups) // 3)
    top, bottom = 0.12 + 0.22 * legend_rows, 0.55  # inches: the legend above, the axis below
    height = top + bottom + 0.4 * max(len(bars), 1)
    longest_line = max((len(line) for label in labels for line in label.split("\n")), default=0)
    left = 0.2 + longest_line * _CHAR_WIDTH * 8  # room for the titles at 8 points
    left = min(left, 0.45 * width_cm * CM)
    fig = _figure(width_cm * CM, height, left=left, right=0.35, top=top, bottom=bottom)
    ax = fig.add_subplot()
    positions = list(range(len(bars)))
    starts = [0.0] * len(bars)
    for index, group in enumerate(groups):
        values = [float(values[index]) if index < len(values) else 0.0 for _, values in bars]
        ax.barh(positions, values, left=starts, height=0.62, label=_drawable(group),
                color=GROUP_COLOURS[index % len(GROUP_COLOURS)], edgecolor="white",
                linewidth=0.6)
        starts = [start + value for start, value in zip(starts, values)]
    longest = max(starts, default=0) or 1
    for position, total in zip(positions, starts):
        ax.text(total + longest * 0.01, position, _number(total), va="center", color=INK,
                fontproperties=_font(8))
    ax.set_yticks(positions, labels)
    ax.set_ylim(max(len(bars), 1) - 0.5, -0.5)  # the first (largest) bar on top
    ax.set_xlim(0, longest * 1.08)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(_drawable(value_label), fontproperties=_font(9), color=INK)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if groups:
        legend = ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=min(len(groups), 3),
                           frameon=False, prop=_font(8), handlelength=1.2,
                           columnspacing=1.2, borderaxespad=0.3)
        for text in legend.get_texts():
            text.set_parse_math(False)
    _ticks(ax, 8)
    return _png(fig)


def matrix_chart(points: list[tuple[int, float, float]], quadrants: dict[str, str],
                 impact_label: str, effort_label: str, unrated: list[int] = (),
                 unrated_label: str = "", scale: int = 5, threshold: float = 3.0,
                 width_cm: float = 11.0) -> bytes:
    """The impact/effort matrix as PNG: each (number, impact, effort) drawn as its number."""
    note = []
    if unrated:
        note = textwrap.wrap("%s: %s" % (_drawable(unrated_label),
                                         ", ".join(str(n) for n in unrated)), 70) or [""]
        if len(note) > 3:
            note = note[:3]
            note[-1] += " …"
    width = width_cm * CM
    left, right, top, bottom = 0.6, 0.15, 0.15, 0.55 + 0.16 * len(note)
    height = width - left - right + top + bottom  # a square plot area
    fig = _figure(width, height, left=left, right=right, top=top, bottom=bottom)
    ax = fig.add_subplot()
    low, high = 0.5, scale + 0.5
    # Effort runs along x, impact up y: quick wins sit top left.
    areas = {"quick_win": (low, threshold, threshold, high),
             "major_project": (threshold, high, threshold, high),
             "fill_in": (low, threshold, low, threshold),
             "reconsider": (threshold, high, low, threshold)}
    for key, (x0, x1, y0, y1) in areas.items():
        ax.fill_between([x0, x1], y0, y1, color=QUADRANT_FILLS[key], linewidth=0, zorder=0)
    ax.axvline(threshold, color=INK, linewidth=0.8, linestyle="--", zorder=1)
    ax.axhline(threshold, color=INK, linewidth=0.8, linestyle="--", zorder=1)
    inset = 0.08
    places = {"quick_win": (low + inset, high - inset, "left", "top"),
              "major_project": (high - inset, high - inset, "right", "top"),
              "fill_in": (low + inset, low + inset, "left", "bottom"),
              "reconsider": (high - inset, low + inset, "right", "bottom")}
    for key, (x, y, ha, va) in places.items():
        if quadrants.get(key):
            ax.text(x, y, _wrapped(quadrants[key], 24, 2), ha=ha, va=va, color=INK,
                    fontproperties=_font(9, bold=True), zorder=2, parse_math=False)
    # Actions at the same spot share one label rather than hiding each other.
    spots: dict[tuple[float, float], list[int]] = {}
    for number, impact, effort in points:
        spots.setdefault((round(float(effort), 2), round(float(impact), 2)), []).append(number)
    for (effort, impact), numbers in sorted(spots.items()):
        ax.text(effort, impact, ", ".join(str(n) for n in sorted(numbers)), ha="center",
                va="center", color=INK, fontproperties=_font(8.5, bold=True), zorder=3,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": INK,
                      "linewidth": 0.7})
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ticks = list(range(1, scale + 1))
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel(_drawable(effort_label), fontproperties=_font(9), color=INK)
    ax.set_ylabel(_drawable(impact_label), fontproperties=_font(9), color=INK)
    _ticks(ax, 8)
    if note:
        fig.text(0.1 / width, 0.06 / height, "\n".join(note), fontproperties=_font(8),
                 color=INK, va="bottom", parse_math=False)
    return _png(fig)


# --- drawing helpers -------------------------------------------------------------------


def _figure(width_in, height_in, left, right, top, bottom):
    """A figure of this size in inches, with these margins in inches around its axes."""
    # Margins are set, not computed by matplotlib's layout engines: those measure every
    # text and would double the time a chart takes.
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=left / width_in, right=1 - right / width_in,
                        top=1 - top / height_in, bottom=bottom / height_in)
    return fig


def _png(fig) -> bytes:
    out = io.BytesIO()
    # No software version in the file: the same data gives the same bytes after upgrades.
    # print_png draws once; Figure.savefig would lay the figure out and draw it twice.
    fig.canvas.print_png(out, metadata={"Software": None}, pil_kwargs={"compress_level": 3})
    fig.clear()
    return out.getvalue()


def _ticks(ax, size):
    """Tick labels in the chart's font and colour; axis labels and ticks as plain text."""
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        label.set_fontproperties(_font(size))
        label.set_color(INK)
    for label in ax.get_xticklabels() + ax.get_yticklabels() + [ax.xaxis.label, ax.yaxis.label]:
        label.set_parse_math(False)  # a "$" in a title is a dollar, not mathematics


@lru_cache(maxsize=None)
def _font(size, bold=False):
    return FontProperties(family=FONT, size=size, weight="bold" if bold else "normal")


@lru_cache(maxsize=1)
def _drawable_codepoints() -> frozenset:
    """The characters DejaVu Sans has glyphs for."""
    return frozenset(FT2Font(findfont(FontProperties(family=FONT))).get_charmap())


def _drawable(text) -> str:
    """text with controls dropped and characters the font lacks shown as a white square."""
    known = _drawable_codepoints()
    out = []
    for char in str(text or ""):
        if char in "\n\t\r" or unicodedata.category(char) == "Zs":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(char if ord(char) in known else MISSING)
    return " ".join("".join(out).split())


def _wrapped(text, width, lines) -> str:
    """text wrapped to at most lines lines of about width characters, cut with an ellipsis."""
    wrapped = textwrap.wrap(_drawable(text), width, break_long_words=True) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip() + "…"
    return "\n".join(wrapped)


def _number(value) -> str:
    return str(int(value)) if float(value).is_integer() else "%.1f" % value
