"""The report's charts as inline SVG: a histogram, the loss curve, the changes by layer.

Each chart is an ``<svg role="img">`` whose ``<title>`` says what it shows; the page
puts the numbers it draws in a table beside it. Colours come from the page's CSS
classes, so the print and dark styles apply to the charts too. Every string drawn
is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from rustgpt_format.report.content import Phase


def _svg(width: float, height: float, title: str, body: list[str], css: str) -> str:
    return (
        f'<svg class="{css}" viewBox="0 0 {width:g} {height:g}" role="img" '
        f'preserveAspectRatio="xMinYMid meet">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def histogram(counts: Sequence[int], title: str) -> str:
    """A small histogram: one bar per count, heights relative to the tallest.

    >>> histogram([1, 2], "two bars").count("<rect")
    2
    """
    width, height = 96.0, 24.0
    tallest = max(counts, default=0) or 1
    step = width / max(len(counts), 1)
    bars = []
    for index, value in enumerate(counts):
        if value:
            # Even a single element shows: the shortest visible bar is 1 unit high.
            h = max(1.0, height * value / tallest)
            bars.append(
                f'<rect x="{index * step:.2f}" y="{height - h:.2f}" '
                f'width="{step * 0.86:.2f}" height="{h:.2f}"/>'
            )
    return _svg(width, height, title, bars, "hist")


def loss_curve(
    losses: Sequence[float], phases: Sequence[Phase], title: str, *, width: float = 600.0
) -> str:
    """The loss per epoch, the phases of the schedule shaded and named.

    The y axis is logarithmic when the loss falls by more than ten times, so that
    the end of training is not a flat line at the bottom.
    """
    height, left, right, top, bottom = 300.0, 62.0, 14.0, 34.0, 46.0
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(losses)
    positive = [x for x in losses if x > 0]
    low, high = min(losses), max(losses)
    log = bool(positive) and len(positive) == n and high / low > 10
    if log:
        low, high = math.log10(low), math.log10(high)
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    pad = (high - low) * 0.05
    low, high = (low - pad, high + pad) if log else (min(0.0, low - pad), high + pad)

    def x_of(epoch: float) -> float:
        return left + plot_w * (epoch - 0.5) / max(n, 1)

    def y_of(value: float) -> float:
        v = math.log10(value) if log else value
        return top + plot_h * (high - v) / (high - low)

    body: list[str] = []
    first = 0
    for index, phase in enumerate(phases):  # shaded bands: where each phase's epochs lie
        last = min(n, first + max(phase.epochs, 0))
        if last > first:
            x0, x1 = x_of(first + 0.5), x_of(last + 0.5)
            band = "band-a" if index % 2 == 0 else "band-b"
            body.append(
                f'<rect class="{band}" x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" '
                f'height="{plot_h}"/>'
            )
            name = phase.name if len(phase.name) <= 40 else phase.name[:39] + "…"
            body.append(
                f'<text class="phase" x="{x0 + 6:.1f}" y="{top - 10}">{escape(name)}</text>'
            )
            if first:
                body.append(
                    f'<line class="boundary" x1="{x0:.1f}" y1="{top - 24}" '
                    f'x2="{x0:.1f}" y2="{top + plot_h}"/>'
                )
        first = last
    for value in _ticks(low, high, log):
        y = y_of(value)
        body.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}"/>'
        )
        body.append(
            f'<text class="tick" x="{left - 8}" y="{y + 5:.1f}" text-anchor="end">{value:g}</text>'
        )
    for epoch in _epoch_ticks(n, max(3, int(plot_w / 80))):
        x = x_of(epoch)
        body.append(
            f'<text class="tick" x="{x:.1f}" y="{top + plot_h + 22}" text-anchor="middle">'
            f"{epoch}</text>"
        )
    points = " ".join(f"{x_of(i + 1):.1f},{y_of(v):.1f}" for i, v in enumerate(losses))
    body.append(f'<polyline class="curve" points="{points}"/>')
    body.append(
        f'<text class="label" x="{left + plot_w / 2:.1f}" y="{height - 6}" '
        f'text-anchor="middle">epoch</text>'
    )
    body.append(
        f'<text class="label" x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">'
        f"{'loss (log scale)' if log else 'loss'}</text>"
    )
    return _svg(width, height, title, body, "chart")


def _ticks(low: float, high: float, log: bool) -> list[float]:
    """Round values for the y axis within ``[low, high]`` (log10 units when ``log``)."""
    if log:
        found = []
        for exponent in range(math.floor(low), math.ceil(high) + 1):
            for mantissa in (1, 2, 5):
                value = mantissa * 10.0**exponent
                if low <= math.log10(value) <= high:
                    found.append(value)
        return found
    raw = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=raw)
    start = math.ceil(low / step) * step
    return [round(start + i * step, 12) for i in range(int((high - start) / step) + 1)]


def _epoch_ticks(n: int, most: int) -> list[int]:
    if n <= 1:
        return [1] if n else []
    raw = n / most
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [1] + [e for e in range(step, n + 1, step) if e > 1]


def columns(
    rows: Sequence[tuple[int, str, str, float | None]],
    title: str,
    *,
    quantity: str,
    missing: str = "n/a",
    width: float = 720.0,
) -> str:
    """One value per array in forward order: rows of (layer index, path, kind, value).

    Columns are coloured by layer kind and grouped by layer (its index below them); a
    missing value is a hollow marker on the baseline, ``missing`` in its tooltip. When
    the values span more than a hundredfold, the axis is logarithmic (a zero is then a
    hollow marker too), so that the small ones still show.
    """
    height, left, bottom, top = 240.0, 66.0, 44.0, 12.0
    plot_w, plot_h = width - left - 10, height - top - bottom
    positive = [v for *_, v in rows if v is not None and v > 0]
    log = len(positive) > 1 and max(positive) > 100 * min(positive)
    low: float
    high: float
    if log:  # whole decades, in log10 units
        first, last = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
        low, high, ticks = first, last, [10.0**e for e in range(first, last + 1)]
    else:
        low, high = 0.0, max(positive, default=0.0) or 1.0
        ticks = _ticks(0.0, high, False)

    def height_of(value: float) -> float:
        if log:
            return plot_h * (math.log10(value) - low) / (high - low)
        return plot_h * value / high

    step = plot_w / max(len(rows), 1)
    body = []
    for tick in ticks:
        y = top + plot_h - height_of(tick)
        body.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}"/>')
        body.append(
            f'<text class="tick" x="{left - 8}" y="{y + 5:.1f}" text-anchor="end">{tick:g}</text>'
        )
    previous, shown = None, -math.inf
    for index, (layer, path, kind, value) in enumerate(rows):
        x = left + index * step
        if layer != previous and (x - shown >= 22):  # a layer's index under its first column
            previous, shown = layer, x
            body.append(
                f'<text class="tick" x="{x + step / 2:.1f}" y="{top + plot_h + 17}" '
                f'text-anchor="middle">{layer}</text>'
            )
        tip = escape(f"{path}: {missing if value is None else f'{value:.4g}'}")
        if value is None or (log and value <= 0):
            body.append(
                f'<rect class="none" x="{x + step * 0.15:.2f}" y="{top + plot_h - 3}" '
                f'width="{step * 0.7:.2f}" height="3"><title>{tip}</title></rect>'
            )
            continue
        h = max(0.5, height_of(value))
        body.append(
            f'<rect class="k-{escape(kind.lower())}" x="{x + step * 0.15:.2f}" '
            f'y="{top + plot_h - h:.2f}" width="{step * 0.7:.2f}" height="{h:.2f}">'
            f"<title>{tip}</title></rect>"
        )
    body.append(
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - 10}" '
        f'y2="{top + plot_h}"/>'
    )
    body.append(
        f'<text class="label" x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
        "layer (its arrays in forward order)</text>"
    )
    middle = top + plot_h / 2
    body.append(
        f'<text class="label" x="14" y="{middle:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {middle:.1f})">{escape(quantity)}{" (log scale)" if log else ""}'
        "</text>"
    )
    return _svg(width, height, title + (" The axis is logarithmic." if log else ""), body, "chart")
