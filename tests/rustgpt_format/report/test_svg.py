"""The charts: an accessible title, the axis they choose, every value drawn."""

from __future__ import annotations

import re

import pytest

from rustgpt_format.report.content import Phase
from rustgpt_format.report.svg import columns, histogram, loss_curve


def rows(*values: float | None) -> list[tuple[int, str, str, float | None]]:
    return [(i, f"network[{i}].w", "FeedForward", v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("values", "log", "columns_drawn"),
    [
        ((0.5, 1.0, 2.0), False, 3),  # a fourfold spread: linear
        ((0.01, 0.5, 5.0), True, 3),  # five hundredfold: logarithmic, or 0.01 would not show
        ((0.0, 0.5, 20.0), False, 3),  # a zero does not count towards the spread
        ((0.0, 0.01, 5.0), True, 2),  # on a log axis a zero is a hollow marker
    ],
)
def test_columns_choose_their_axis(
    values: tuple[float, ...], log: bool, columns_drawn: int
) -> None:
    chart = columns(rows(*values), "Changes.", quantity="relative change")
    assert ("(log scale)" in chart) is log
    assert ("The axis is logarithmic." in chart) is log
    drawn = re.findall(r'<rect class="k-feedforward"[^>]*height="([0-9.]+)"', chart)
    assert len(drawn) == columns_drawn
    assert chart.count('<rect class="none"') == len(values) - columns_drawn


def test_missing_values_are_hollow_and_named() -> None:
    chart = columns(rows(None, 1.0), "Changes.", quantity="q", missing="before is all zeros")
    assert '<rect class="none"' in chart
    assert "<title>network[0].w: before is all zeros</title>" in chart


def test_strings_in_charts_are_escaped() -> None:
    chart = loss_curve([2.0, 1.0], [Phase("<b>x</b>", 2, 0.1)], "a <title>")
    assert "&lt;b&gt;x&lt;/b&gt;" in chart and "<b>" not in chart
    assert "<title>a &lt;title&gt;</title>" in chart


def test_histogram_bars_scale_to_the_tallest() -> None:
    chart = histogram([0, 5, 10], "h")
    heights = [float(h) for h in re.findall(r'height="([0-9.]+)"/>', chart)]
    assert heights == [12.0, 24.0]  # an empty bin draws nothing


def test_every_chart_is_an_image_with_a_title_first() -> None:
    for chart in (
        histogram([1], "h"),
        loss_curve([1.0], [], "l"),
        columns(rows(1.0), "c", quantity="q"),
    ):
        assert re.match(r'<svg class="[a-z]+" viewBox="[0-9. ]+" role="img"[^>]*><title>', chart)
