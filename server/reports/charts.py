"""Bar charts as inline SVG, drawn on the server: no script, no library, nothing fetched.

Each chart is horizontal grouped bars (one group per commune or indicator, one bar per series),
with a ``<title>`` and ``<desc>`` the SVG is labelled by, a ``<title>`` on every bar, the value
written beside each bar, and a legend.  The page shows the same figures in a table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Poor (red), near-poor (amber): this year full colour, the previous year lighter.
PALETTE = ("#b2182b", "#f4a582", "#b35806", "#fdb863")
_LABEL_WIDTH = 230
_PLOT_WIDTH = 380
_VALUE_WIDTH = 80
_BAR = 14
_BAR_GAP = 3
_GROUP_GAP = 12
_TOP = 34  # room for the legend
_WRAP = 34  # characters per label line


@dataclass(frozen=True)
class Group:
    label: str
    values: Sequence[float | None]  # one per series; None: no figure


def _lines(label: str) -> list[str]:
    """Split a long label over two lines at a space."""
    if len(label) <= _WRAP or " " not in label:
        return [label]
    cut = label.rfind(" ", 0, _WRAP)
    cut = cut if cut > 0 else label.find(" ")
    return [label[:cut], label[cut + 1 :]]


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    series: Sequence[str],
    groups: Sequence[Group],
    fmt: Callable[[float | None], str],
    colors: Sequence[str] = PALETTE,
) -> Markup:
    n = len(series)
    width = _LABEL_WIDTH + _PLOT_WIDTH + _VALUE_WIDTH
    legend, x, line = [], 8, 0
    for k, name in enumerate(series):  # the legend, over as many lines as it needs
        size = 24 + 7 * len(name)
        if x + size > width and x > 8:
            x, line = 8, line + 1
        color = colors[k % len(colors)]
        row = 6 + 18 * line
        legend.append(
            f'<rect class="swatch" x="{x}" y="{row}" width="12" height="12" fill="{color}"/>'
            f'<text x="{x + 16}" y="{row + 10}">{escape(name)}</text>'
        )
        x += size
    chart_top = _TOP + 18 * line
    group_height = n * _BAR + (n - 1) * _BAR_GAP
    height = chart_top + len(groups) * (group_height + _GROUP_GAP) + 4
    peak = max((v for g in groups for v in g.values if v is not None), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
        *legend,
    ]
    y = chart_top
    for group in groups:
        lines = _lines(group.label)
        middle = y + group_height / 2
        first = middle - (len(lines) - 1) * 7 + 4
        out.append('<g class="group">')
        for i, line in enumerate(lines):
            out.append(
                f'<text x="{_LABEL_WIDTH - 8}" y="{first + 14 * i:.1f}" text-anchor="end">'
                f"{escape(line)}</text>"
            )
        for k, value in enumerate(group.values):
            bar_y = y + k * (_BAR + _BAR_GAP)
            length = 0.0 if value is None else max(0.0, value) / peak * _PLOT_WIDTH
            text = fmt(value)
            out.append(
                f'<rect class="bar" x="{_LABEL_WIDTH}" y="{bar_y}" width="{length:.1f}" '
                f'height="{_BAR}" fill="{colors[k % len(colors)]}">'
                f"<title>{escape(group.label)} — {escape(series[k])}: {escape(text)}</title>"
                f"</rect>"
                f'<text x="{_LABEL_WIDTH + length + 4:.1f}" y="{bar_y + _BAR - 3}" '
                f'aria-hidden="true">{escape(text)}</text>'
            )
        out.append("</g>")
        y += group_height + _GROUP_GAP
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704  (every text in it went through escape())
