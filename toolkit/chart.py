"""Charts and QR codes as inline SVG, drawn on the server: no JavaScript, no external service.

Everything here takes plain values and returns an SVG string that parses as XML; every
piece of text in it is escaped, because item titles and group labels are typed by people.
"""
import hashlib
import html
import io
import re
from functools import lru_cache

import segno

# Okabe and Ito's colour-blind-safe palette, in their order, without black (it is the ink).
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
INK = "#111111"
QUIET = "#444444"
TRACK = "#EEEEEE"
TONES = {"good": "#1A6B34", "mid": "#7A4F00", "bad": "#A4161A", "none": QUIET}
ELLIPSIS = "…"

# Sizes in the chart's own units; the page scales the whole drawing to its width, so these
# are chosen for a projector: 1,400 units across a 1,920 pixel screen keeps labels ~34 px.
# Verdana (DejaVu Sans on Linux has the same widths) is wide and clear at a distance, and
# its widths are what text_width estimates.
FONTS = "Verdana, 'DejaVu Sans', 'Bitstream Vera Sans', sans-serif"
WIDTH = 1400
LABEL_SIZE = 36
NUMBER_SIZE = 30
NOTE_SIZE = 30
LEGEND_SIZE = 30
BAR_HEIGHT = 50
GAP = 12
ROW_SPACING = 30
LABEL_LINES = 2

# XML 1.0 forbids these control characters even when escaped; a title pasted from
# elsewhere can carry one, and the SVG must still parse.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NARROW = set("iljtfrI!|.,:;'`()[]{} ")
_WIDE = set("mwMW@%")


def _text(value) -> str:
    """value as text that is safe inside an SVG element or attribute."""
    return html.escape(_NOT_XML.sub("", str(value)), quote=True)


def text_width(value: str, size: float, bold: bool = False) -> float:
    """An estimate of value's width in a sans-serif font of size: the same answer every time."""
    width = 0.0
    for char in value:
        if char in _NARROW:
            width += 0.3
        elif char in _WIDE:
            width += 0.88
        elif char.isupper():
            width += 0.68
        elif char.isdigit():
            width += 0.57
        else:
            width += 0.56
    # Measured against DejaVu Sans, which has Verdana's wide metrics (the chart's fonts), and
    # rounded up: text that is a little short of its room is fine, text that overflows is cut.
    return width * size * (1.26 if bold else 1.12)


def truncate(value: str, size: float, room: float, bold: bool = False) -> str:
    """value, or its start with an ellipsis, so that it fits in room."""
    value = " ".join(str(value).split())
    if text_width(value, size, bold) <= room:
        return value
    budget = room - text_width(ELLIPSIS, size, bold)
    cut = ""
    for char in value:
        if text_width(cut + char, size, bold) > budget:
            break
        cut += char
    return cut.rstrip(" ,.;:-–") + ELLIPSIS


def wrap(value: str, size: float, room: float, lines: int = 2, bold: bool = False) -> list[str]:
    """value in at most lines lines that each fit in room, the last cut short if it must be."""
    words = " ".join(str(value).split()).split(" ")
    result = []
    while words and len(result) < lines - 1:
        line = words.pop(0)
        while words and text_width(f"{line} {words[0]}", size, bold) <= room:
            line += " " + words.pop(0)
        if text_width(line, size, bold) > room:
            # One word longer than the room: leave it for the last line, which cuts it.
            words.insert(0, line)
            break
        result.append(line)
    if words:
        result.append(truncate(" ".join(words), size, room, bold))
    return result


def colours(keys) -> dict:
    """A colour from the palette for each key, in the order given (repeating past seven)."""
    return {key: PALETTE[index % len(PALETTE)] for index, key in enumerate(keys)}


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ink_on(colour: str) -> str:
    """Black or white, whichever contrasts more with colour."""
    light = _luminance(colour)
    return "#000000" if (light + 0.05) / 0.05 >= 1.05 / (light + 0.05) else "#FFFFFF"


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def bars_svg(title: str, rows: list[dict], unit_label: str, chart_id: str | None = None,
             width: int = WIDTH, legend: bool = True) -> str:
    """A horizontal stacked bar chart: one bar per row, one coloured segment per group.

    A row is {"label": str, "segments": [{"key", "label", "value"}], "total": int}, and may
    carry a "note" (shown at the right of its bar) with a "tone" of good, mid, bad or none.
    Colours follow the order in which segment keys first appear, so pass every group for
    every row to keep the colours steady. Long labels wrap onto a second line and are cut
    short after it on screen; the chart's <title> and <desc> hold them complete. A narrower width (in the
    chart's units) makes the text larger relative to the drawing, for charts side by side;
    such charts may leave out their legend (legend=False) when the page shows one for all.

    Example: bars_svg("Drivers", [{"label": "Staying competitive", "total": 3,
             "segments": [{"key": "companies", "label": "Companies", "value": 3}]}], "dots")
    """
    chart_id = _text(chart_id or "chart-" + hashlib.sha1(f"{title}\n{unit_label}".encode()).hexdigest()[:10])
    groups = {}
    for row in rows:
        for segment in row["segments"]:
            groups.setdefault(segment["key"], segment["label"])
    palette = colours(groups)
    parts = []

    # The legend, wrapped onto as many lines as it needs.
    y = LEGEND_SIZE
    x = 0.0
    drawn = []
    for key, label in (groups.items() if legend else ()):
        shown = truncate(label, LEGEND_SIZE, width / 2)
        room = LEGEND_SIZE + 12 + text_width(shown, LEGEND_SIZE) + 40
        if x and x + room - 40 > width:
            x, y = 0.0, y + LEGEND_SIZE + 16
        drawn.append(
            f'<rect x="{x:.0f}" y="{y - LEGEND_SIZE * 0.85:.0f}" width="{LEGEND_SIZE}" height="{LEGEND_SIZE}" '
            f'fill="{palette[key]}" stroke="{INK}" stroke-width="2"/>'
            f'<text x="{x + LEGEND_SIZE + 12:.0f}" y="{y:.0f}" font-size="{LEGEND_SIZE}">{_text(shown)}</text>'
        )
        x += room
    if drawn:
        parts.append('<g class="legend">' + "".join(drawn) + "</g>")
        y += LEGEND_SIZE + ROW_SPACING
    else:
        y = 0

    notes = [str(row.get("note") or "") for row in rows]
    note_room = max((text_width(note, NOTE_SIZE, bold=True) for note in notes), default=0)
    note_room = min(note_room, width * 0.45)
    totals = [row["total"] for row in rows]
    most = max(totals, default=0) or 1
    total_room = text_width(_number(max(totals, default=0)), NUMBER_SIZE, bold=True) + 2 * GAP
    bar_room = width - total_room - (note_room + 2 * GAP if note_room else 0)

    for row, note in zip(rows, notes):
        label = " ".join(str(row["label"]).split())
        lines = wrap(label, LABEL_SIZE, width, LABEL_LINES, bold=True)
        label_y = y + LABEL_SIZE
        line_height = round(LABEL_SIZE * 1.15)
        step = f' dy="{line_height}"'
        bar_y = label_y + (len(lines) - 1) * line_height + GAP
        summary = f"{label}: {_number(row['total'])} {unit_label}" + (f". {note}" if note else "")
        row_parts = [
            f"<title>{_text(summary)}</title>",
            f'<text y="{label_y:.0f}" font-size="{LABEL_SIZE}" font-weight="600">'
            + "".join(f'<tspan x="0"{step if n else ""}>{_text(line)}</tspan>' for n, line in enumerate(lines))
            + "</text>",
            f'<rect x="0" y="{bar_y:.0f}" width="{bar_room:.0f}" height="{BAR_HEIGHT}" fill="{TRACK}"/>',
        ]
        x = 0.0
        for segment in row["segments"]:
            if not segment["value"]:
                continue
            wide = segment["value"] / most * bar_room
            colour = palette[segment["key"]]
            row_parts.append(
                f'<rect x="{x:.1f}" y="{bar_y:.0f}" width="{wide:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{colour}" stroke="{INK}" stroke-width="2"/>'
            )
            shown = _text(_number(segment["value"]))
            if text_width(shown, NUMBER_SIZE) + 10 <= wide:
                row_parts.append(
                    f'<text x="{x + wide / 2:.1f}" y="{bar_y + BAR_HEIGHT / 2 + NUMBER_SIZE * 0.35:.0f}" '
                    f'font-size="{NUMBER_SIZE}" text-anchor="middle" fill="{ink_on(colour)}">{shown}</text>'
                )
            x += wide
        row_parts.append(
            f'<text x="{x + GAP:.1f}" y="{bar_y + BAR_HEIGHT / 2 + NUMBER_SIZE * 0.35:.0f}" '
            f'font-size="{NUMBER_SIZE}" font-weight="700">{_text(_number(row["total"]))}</text>'
        )
        if note:
            tone = TONES.get(row.get("tone"), QUIET)
            row_parts.append(
                f'<text x="{width}" y="{bar_y + BAR_HEIGHT / 2 + NOTE_SIZE * 0.35:.0f}" font-size="{NOTE_SIZE}" '
                f'text-anchor="end" font-weight="600" fill="{tone}">{_text(truncate(note, NOTE_SIZE, note_room, True))}</text>'
            )
        parts.append('<g class="bar">' + "".join(row_parts) + "</g>")
        y = bar_y + BAR_HEIGHT + ROW_SPACING

    height = max(y - ROW_SPACING + GAP, LEGEND_SIZE)
    description = "; ".join(
        f"{' '.join(str(row['label']).split())}: {_number(row['total'])} {unit_label}"
        + (" (" + ", ".join(f"{s['label']} {_number(s['value'])}" for s in row["segments"]) + ")"
           if row["segments"] else "")
        + (f", {row['note']}" if row.get("note") else "")
        for row in rows
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" preserveAspectRatio="xMinYMin meet" '
        f'viewBox="0 0 {width} {height:.0f}" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{FONTS}" fill="{INK}">'
        f'<title id="{chart_id}-title">{_text(title)}</title>'
        f'<desc id="{chart_id}-desc">{_text(description)}</desc>'
        + "".join(parts)
        + "</svg>"
    )


@lru_cache(maxsize=64)
def qr_svg(url: str, label: str | None = None) -> str:
    """The QR code of url as inline SVG that scales to its box, labelled with label or the link.

    Example: qr_svg("http://192.168.1.20:5000/j/ABC234", "QR code to join the workshop")
    """
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", xmldecl=False, svgns=True, omitsize=True, scale=1, border=4,
              dark="#000000", light="#FFFFFF", svgclass="qr")
    svg = out.getvalue().decode("utf-8")
    label = _text(label or url)
    return svg.replace(
        "<svg ", f'<svg role="img" aria-label="{label}" shape-rendering="crispEdges" ', 1
    ).replace(">", f"><title>{label}</title>", 1)


def matrix_svg(title: str, points: list[dict], labels: dict, scale: int = 5,
               threshold: float = 3.0) -> str:
    """The impact and effort matrix: effort across, impact up, each action drawn as its number.

    A point is {"number": int, "title": str, "impact": float, "effort": float}; labels
    holds the axis names ("impact", "effort") and the quadrant names by key. The page gives
    the same content as a table beside it, so the drawing is for looking, not for reading.
    """
    size, margin = 600, 70
    room = size - 2 * margin

    def x(effort):
        return margin + (effort - 1) / (scale - 1) * room

    def y(impact):
        return size - margin - (impact - 1) / (scale - 1) * room

    split_x, split_y = x(threshold), y(threshold)
    corners = (
        ("quick_win", margin, margin, split_x - margin, split_y - margin),
        ("major_project", split_x, margin, size - margin - split_x, split_y - margin),
        ("fill_in", margin, split_y, split_x - margin, size - margin - split_y),
        ("reconsider", split_x, split_y, size - margin - split_x, size - margin - split_y),
    )
    fills = {"quick_win": "#E3F1E6", "major_project": "#E4EEF8", "fill_in": "#F4F4F4",
             "reconsider": "#FBE9E7"}
    description = "; ".join(
        f"{point['number']}: {point['title']} ({labels['impact']} {_number(point['impact'])}, "
        f"{labels['effort']} {_number(point['effort'])})" for point in points
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" '
        f'class="chart matrix" aria-labelledby="matrix-title" aria-describedby="matrix-desc">',
        f'<title id="matrix-title">{_text(title)}</title>',
        f'<desc id="matrix-desc">{_text(description)}</desc>',
    ]
    for key, left, top, width, height in corners:
        parts.append(f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" '
                     f'fill="{fills[key]}" stroke="{QUIET}" stroke-width="1"/>')
        parts.append(f'<text x="{left + 8:.1f}" y="{top + 24:.1f}" font-family="{FONTS}" '
                     f'font-size="18" fill="{QUIET}">{_text(labels[key])}</text>')
    parts.append(f'<text x="{size / 2:.1f}" y="{size - 20}" text-anchor="middle" font-family="{FONTS}" '
                 f'font-size="20" fill="{INK}">{_text(labels["effort"])} →</text>')
    parts.append(f'<text x="24" y="{size / 2:.1f}" text-anchor="middle" font-family="{FONTS}" '
                 f'font-size="20" fill="{INK}" transform="rotate(-90 24 {size / 2:.1f})">'
                 f'{_text(labels["impact"])} →</text>')
    seen = {}
    for point in points:
        # Actions with the same mean would hide each other: fan them out a little.
        spot = (round(point["effort"], 1), round(point["impact"], 1))
        shift = seen.get(spot, 0)
        seen[spot] = shift + 1
        cx, cy = x(point["effort"]) + 26 * (shift % 4), y(point["impact"]) + 26 * (shift // 4)
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="15" fill="{PALETTE[4]}"/>')
        parts.append(f'<text x="{cx:.1f}" y="{cy + 6:.1f}" text-anchor="middle" font-family="{FONTS}" '
                     f'font-size="16" font-weight="bold" fill="#FFFFFF">{point["number"]}</text>')
    parts.append("</svg>")
    return "".join(parts)
