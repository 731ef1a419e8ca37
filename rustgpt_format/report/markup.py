"""HTML pieces every section of the report uses.

Every string that comes from a file (words, metadata, names, problems) goes through
:func:`text`, which escapes it and shows invisible characters as ``\\u....``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from html import escape

from rustgpt_format.report.content import Content
from rustgpt_format.report.stats import Summary


def both(chart: Callable[..., str], *args: object, **options: object) -> str:
    """A chart drawn twice: for a wide screen and print, and narrower (larger text) for a phone."""
    return (
        f'<div class="for-wide">{chart(*args, **options)}</div>'
        f'<div class="for-narrow">{chart(*args, **options, width=400.0)}</div>'
    )


def text(value: object) -> str:
    """Escaped for HTML, invisible and control characters shown as ``\\uXXXX``."""
    shown = "".join(c if c.isprintable() or c == " " else f"\\u{ord(c):04x}" for c in str(value))
    return escape(shown, quote=True)


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def count(value: int) -> str:
    return f"{value:,}"


def section(key: str, title: str, body: str, css: str = "") -> str:
    css_attr = f' class="{css}"' if css else ""
    heading = f'<h2 id="{key}-h">{title}</h2>'
    return f'<section id="{key}"{css_attr} aria-labelledby="{key}-h">{heading}{body}</section>'


def table(caption: str, head: Sequence[str], rows: Iterable[str], css: str = "") -> str:
    cells = "".join(f'<th scope="col">{h}</th>' for h in head)
    return (
        f'<div class="scroll {css}" tabindex="0" role="region" aria-label="{text(caption)}">'
        f"<table><caption>{text(caption)}</caption><thead><tr>{cells}</tr></thead>"
        f"{''.join(rows)}</table></div>"
    )


def legend(content: Content) -> str:
    """The colours of the layer kinds, under a chart of columns."""
    kinds = dict.fromkeys(layer.kind for layer in content.layers)
    items = "".join(
        f'<li><span class="swatch k-{text(kind.lower())}" aria-hidden="true"></span>'
        f"{text(kind)}</li>"
        for kind in kinds
    )
    return f'<figcaption><ul class="legend">{items}</ul></figcaption>'


def shape(summary: Summary) -> str:
    return "(" + ", ".join(str(n) for n in summary.shape) + ")"
