"""Bar charts as inline SVG, drawn on the server: no script, no library, nothing fetched.

Each chart is horizontal grouped bars (one group per commune or indicator, one bar per series),
with a ``<title>`` and ``<desc>`` the SVG is labelled by, a ``<title>`` on every bar, the value
written beside each bar, and a legend.  The page shows the same figures in a table.

A chart comes in two layouts, the page's CSS showing one: *wide* (labels left of the bars) and
*narrow* for phones (each label on its own line above its bars, about as wide as a phone
screen, so its 12-unit text is drawn at about 12 px instead of shrinking to 6 px).
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
# The narrow layout: no label column, a plot a phone can show at about its natural size.
_NARROW_PLOT_WIDTH = 250
_NARROW_WRAP = 44


@dataclass(frozen=True)
class Group:
    label: str
    values: Sequence[float | None]  # one per series; None: no figure


def _lines(label: str, wrap: int = _WRAP) -> list[str]:
    """Split a long label over two lines at a space."""
    if len(label) <= wrap or " " not in label:
        return [label]
    cut = label.rfind(" ", 0, wrap)
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
    """The chart in both layouts; ``svg.chart-wide`` / ``svg.chart-narrow`` in app.css show the
    one that fits the screen (the other is ``display: none``, out of the accessibility tree)."""
    wide = _draw(chart_id, title, description, series, groups, fmt, colors, narrow=False)
    narrow = _draw(
        f"{chart_id}-narrow", title, description, series, groups, fmt, colors, narrow=True
    )
    return wide + narrow


def _draw(
    chart_id: str,
    title: str,
    description: str,
    series: Sequence[str],
    groups: Sequence[Group],
    fmt: Callable[[float | None], str],
    colors: Sequence[str] = PALETTE,
    *,
    narrow: bool,
) -> Markup:
    n = len(series)
    label_width = 0 if narrow else _LABEL_WIDTH
    plot_width = _NARROW_PLOT_WIDTH if narrow else _PLOT_WIDTH
    width = label_width + plot_width + _VALUE_WIDTH
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
    bars_height = n * _BAR + (n - 1) * _BAR_GAP
    labels = [_lines(g.label, _NARROW_WRAP if narrow else _WRAP) for g in groups]
    above = [14 * len(lines) + 2 if narrow else 0 for lines in labels]  # label lines over bars
    height = chart_top + sum(bars_height + a + _GROUP_GAP for a in above) + 4
    peak = max((v for g in groups for v in g.values if v is not None), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f'class="chart {"chart-narrow" if narrow else "chart-wide"}" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
        *legend,
    ]
    y = chart_top
    for group, lines, space in zip(groups, labels, above, strict=True):
        out.append('<g class="group">')
        if narrow:  # the label over its bars, left-aligned
            for i, line in enumerate(lines):
                out.append(f'<text x="0" y="{y + 11 + 14 * i}">{escape(line)}</text>')
        else:
            first = y + bars_height / 2 - (len(lines) - 1) * 7 + 4
            for i, line in enumerate(lines):
                out.append(
                    f'<text x="{label_width - 8}" y="{first + 14 * i:.1f}" text-anchor="end">'
                    f"{escape(line)}</text>"
                )
        y += space
        for k, value in enumerate(group.values):
            bar_y = y + k * (_BAR + _BAR_GAP)
            length = 0.0 if value is None else max(0.0, value) / peak * plot_width
            text = fmt(value)
            out.append(
                f'<rect class="bar" x="{label_width}" y="{bar_y}" width="{length:.1f}" '
                f'height="{_BAR}" fill="{colors[k % len(colors)]}">'
                f"<title>{escape(group.label)} — {escape(series[k])}: {escape(text)}</title>"
                f"</rect>"
                f'<text x="{label_width + length + 4:.1f}" y="{bar_y + _BAR - 3}" '
                f'aria-hidden="true">{escape(text)}</text>'
            )
        out.append("</g>")
        y += bars_height + _GROUP_GAP
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704  (every text in it went through escape())
