"""Bar charts drawn on the server as SVG: readable without JavaScript, printable, and the same
drawing can be saved as an image. Pure functions: the caller hands over labels and the texts to
show (already formatted for the reader's language).

Colours and fonts are presentation attributes, not `style`: the Content-Security-Policy forbids
inline styles, and a saved file must look the same outside the page. Every chart carries a
<title> and a <desc> that say in words what it shows; the page puts a table of the same numbers
beside it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

TONES = {
    "primary": "#0172ad",
    "bad": "#b3261e",
    "neutral": "#8a94a3",
    "good": "#1f7a3f",
}
TRACK = "#eef1f5"
INK = "#1b1f24"
MUTED = "#5f6b7a"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

WIDTH = 640
VALUE_WIDTH = 110
ROW_HEIGHT = 30
BAR_HEIGHT = 18
HEADING_HEIGHT = 34
PADDING = 8
# Labels longer than this go above their bar, across the whole width.
SHORT_LABEL = 14
STACKED_ROW_HEIGHT = 46


@dataclass(frozen=True)
class ChartBar:
    label: str
    share: float  # 0 to 1: the bar's length
    value_text: str  # shown after the bar, e.g. "12 (40 %)"
    tone: str = "primary"


def _short(label: str, limit: int = 80) -> str:
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    return label[: limit - 1].rstrip() + "…"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    bars: Sequence[ChartBar],
    description: str = "",
    with_heading: bool = False,
) -> str:
    """A horizontal bar chart as an <svg> element (also a complete SVG file on its own)."""
    top = PADDING + (HEADING_HEIGHT if with_heading else 0)
    # Short labels (numbers of a scale) stand left of their bars; longer ones (choices) above.
    stacked = any(len(bar.label) > SHORT_LABEL for bar in bars)
    row_height = STACKED_ROW_HEIGHT if stacked else ROW_HEIGHT
    height = top + row_height * max(len(bars), 1) + PADDING
    label_width = max(40, 16 + 8 * max((len(bar.label) for bar in bars), default=0))
    bar_left = PADDING if stacked else label_width
    bar_area = WIDTH - bar_left - VALUE_WIDTH
    summary = description or "; ".join(f"{bar.label}: {bar.value_text}" for bar in bars)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" class="chart" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family={quoteattr(FONT)} font-size="13">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    if with_heading:
        parts.append(
            f'<text x="{PADDING}" y="{PADDING + 18}" font-size="15" font-weight="600" '
            f'fill="{INK}">{escape(_short(title))}</text>'
        )
    for index, bar in enumerate(bars):
        row_top = top + index * row_height
        if stacked:
            label = (
                f'<text x="{PADDING}" y="{row_top + 14}" fill="{INK}">'
                f"{escape(_short(bar.label))}</text>"
            )
            bar_top = row_top + 20
        else:
            middle = row_top + row_height / 2
            label = (
                f'<text x="{label_width - 10}" y="{middle}" text-anchor="end" '
                f'dominant-baseline="middle" fill="{INK}">{escape(bar.label)}</text>'
            )
            bar_top = middle - BAR_HEIGHT / 2
        value_y = bar_top + BAR_HEIGHT / 2
        length = round(max(0.0, min(1.0, bar.share)) * bar_area, 1)
        fill = TONES.get(bar.tone, TONES["primary"])
        parts.append(
            f"<g><title>{escape(bar.label)}: {escape(bar.value_text)}</title>{label}"
            f'<rect x="{bar_left}" y="{bar_top}" width="{bar_area}" height="{BAR_HEIGHT}" '
            f'rx="3" fill="{TRACK}"/>'
            + (
                f'<rect x="{bar_left}" y="{bar_top}" width="{length}" '
                f'height="{BAR_HEIGHT}" rx="3" fill="{fill}"/>'
                if length > 0
                else ""
            )
            + f'<text x="{bar_left + bar_area + 8}" y="{value_y}" dominant-baseline="middle" '
            f'fill="{MUTED}">{escape(bar.value_text)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_file(svg: str) -> bytes:
    """A chart as a file to download."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n").encode("utf-8")
