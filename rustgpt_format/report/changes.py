"""The comparison section: what changed in each array between two checkpoints."""

from __future__ import annotations

from rustgpt_format.report import markup, svg
from rustgpt_format.report.content import Content, Subject
from rustgpt_format.report.stats import Change


def comparison(content: Content, before: Subject, found: dict[str, Change] | None) -> str:
    if found is None:
        return markup.section(
            "changes",
            f"Changes since {markup.text(before.name)}",
            "<p>No comparison: both files must be valid checkpoints (see the problems above).</p>",
        )
    rows, bars = [], []
    for layer in content.layers:
        for array in layer.arrays:
            c = array.change
            if c is None:
                continue
            relative = c.relative
            bars.append((layer.index, array.path, layer.kind, relative))
            note = "" if relative is not None else " <small>(before all zeros)</small>"
            rows.append(
                f'<tr data-path="{markup.text(array.path)}" data-relative="{relative!r}" '
                f'data-changed="{c.changed!r}" data-difference="{c.difference_norm!r}">'
                f'<th scope="row">{markup.text(array.path)}</th>'
                f"<td>{markup.number(relative)}{note}</td>"
                f"<td>{c.changed:.1%}</td><td>{markup.number(c.before_norm)}</td>"
                f"<td>{markup.number(c.difference_norm)}</td><td>{markup.text(layer.kind)}</td></tr>"
            )
    title = (
        f"Relative change ||after − before|| / ||before|| of each of {len(rows)} arrays in "
        "forward order, coloured by layer kind. The numbers are in the table below."
    )
    drawn = markup.both(
        svg.columns, bars, title, quantity="relative change", missing="before is all zeros"
    )
    chart = f'<figure class="chart-box wide">{drawn}{markup.legend(content)}</figure>'
    table = markup.table(
        "Change per array",
        ("array", "relative", "changed", "‖before‖", "‖after − before‖", "layer"),
        [f"<tbody>{''.join(rows)}</tbody>"],
    )
    words = ""
    if (
        before.checkpoint
        and content.words is not None
        and before.checkpoint.vocab.words != content.words
    ):
        words = (
            '<p class="note">The vocabularies differ (same size): rows of the embeddings may '
            "stand for other words.</p>"
        )
    intro = (
        f"<p>What training did to each array between <b>{markup.text(before.name)}</b> and this "
        f"checkpoint. {_extremes(content)}</p>"
    )
    return markup.section("changes", "Changes", intro + words + chart + table)


def _extremes(content: Content) -> str:
    """One sentence: how many arrays changed, which the most and which the least."""
    changes = [(a.path, a.change) for layer in content.layers for a in layer.arrays if a.change]
    changed = sum(1 for _, c in changes if c.changed > 0)
    moved = [(c.relative, path) for path, c in changes if c.relative]  # in forward order
    if not moved:
        return f"{changed} of {len(changes)} arrays changed."
    most, least = max(moved, key=lambda m: m[0]), min(moved, key=lambda m: m[0])
    return (
        f"{changed} of {len(changes)} arrays changed; relative to its size, the most "
        f"<code>{markup.text(most[1])}</code> ({markup.number(most[0])}), the least "
        f"<code>{markup.text(least[1])}</code> ({markup.number(least[0])})."
    )
