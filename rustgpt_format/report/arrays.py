"""The sections of numbers: statistics of every array, and Adam's state and step."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rustgpt_format.report import markup, svg
from rustgpt_format.report.content import ArrayView, Content, LayerView, Moments
from rustgpt_format.report.stats import Summary

STAT_HEAD = ("array", "shape", "mean", "std", "min", "max", "norm", "zeros", "histogram")


def _stat_row(label: str, path: str, of: str, summary: Summary | None, note: str = "") -> str:
    head = f'<th scope="row">{label}</th><td>{markup.shape(summary) if summary else "—"}</td>'
    if summary is None:
        row = f'<tr data-path="{markup.text(path)}" data-of="{of}">'
        return f'{row}{head}<td colspan="7">{note}</td></tr>'
    attrs = " ".join(
        f'data-{key}="{getattr(summary, key)!r}"'
        for key in ("mean", "std", "min", "max", "norm", "zeros")
    )
    counts = " ".join(str(c) for c in summary.counts)
    title = (
        f"Histogram of {path} {of}: {len(summary.counts)} equal bins from {summary.min:.4g} to "
        f"{summary.max:.4g}; counts {counts}"
    )
    undefined = (
        f" <small>({markup.count(summary.undefined)} undefined: v &lt; 0)</small>"
        if summary.undefined
        else ""
    )
    return (
        f'<tr data-path="{markup.text(path)}" data-of="{of}" {attrs} data-counts="{counts}">{head}'
        f"<td>{markup.number(summary.mean)}{undefined}</td><td>{markup.number(summary.std)}</td><td>{markup.number(summary.min)}</td>"
        f"<td>{markup.number(summary.max)}</td><td>{markup.number(summary.norm)}</td><td>{summary.zeros:.1%}</td>"
        f"<td>{svg.histogram(summary.counts, title)}</td></tr>"
    )


def _layer_group(layer: LayerView, rows: Sequence[str]) -> str:
    head = (
        f'<tr class="layer"><th scope="rowgroup" colspan="9">network[{layer.index}] · '
        f'<span class="k-{markup.text(layer.kind.lower())}">{markup.text(layer.kind)}</span>'
        "</th></tr>"
    )
    return f"<tbody>{head}{''.join(rows)}</tbody>"


def arrays(content: Content) -> str:
    groups = [
        _layer_group(
            layer,
            [_stat_row(markup.text(a.name), a.path, "parameter", a.summary) for a in layer.arrays],
        )
        for layer in content.layers
    ]
    intro = "<p>Every parameter array; each histogram spans its array's min to max.</p>"
    return markup.section(
        "arrays", "Arrays", intro + markup.table("Statistics per array", STAT_HEAD, groups)
    )


def adam(content: Content) -> str:
    states = [a.adam for layer in content.layers for a in layer.arrays if a.adam]
    if not states:
        return markup.section(
            "adam", "Adam", "<p>No optimizer state: the checkpoint is inference-only.</p>"
        )
    hypers = {_hyper(state) for state in states}
    shared = hypers.pop() if len(hypers) == 1 else None
    intro = (
        "<p>For each array with an Adam state: the moments <code>m</code> and <code>v</code>, "
        "and Adam's effective step <code>m̂ / (√v̂ + ε)</code> with <code>m̂ = m / (1 − β₁ᵗ)</code> "
        "and <code>v̂ = v / (1 − β₂ᵗ)</code>, from the state's own timestep <code>t</code> and β's: "
        "the update its last step made to each weight, in units of the learning rate. At "
        "timestep 0 no step has been taken (the correction would divide by zero), and the "
        "step is shown as none.</p>"
    )
    if shared:
        intro += f"<p>Every state has {shared}.</p>"
    groups = []
    for layer in content.layers:
        rows = [row for array in layer.arrays for row in _adam_rows(array, shared is None)]
        if rows:
            groups.append(_layer_group(layer, rows))
    table = markup.table("Adam state per array", STAT_HEAD, groups)
    return markup.section("adam", "Adam", intro + _step_sizes(content) + table)


def _step_sizes(content: Content) -> str:
    """A chart of the root mean square of Adam's step per array, and its numbers."""
    bars, rows = [], []
    for layer in content.layers:
        for array in layer.arrays:
            if array.adam is None:
                continue
            step = array.adam.step
            rms = math.sqrt(step.mean**2 + step.std**2) if step else None
            largest = max(abs(step.min), abs(step.max)) if step else None
            bars.append((layer.index, array.path, layer.kind, rms))
            rows.append(
                f'<tr data-path="{markup.text(array.path)}" data-rms="{rms!r}">'
                f'<th scope="row">{markup.text(array.path)}</th><td>{markup.number(rms)}</td>'
                f"<td>{markup.number(largest)}</td><td>{markup.text(layer.kind)}</td></tr>"
            )
    if not any(value is not None for *_, value in bars):
        return ""
    title = (
        f"Root mean square of Adam's last step, per unit learning rate, for each of "
        f"{len(rows)} arrays in forward order, coloured by layer kind. The numbers are in "
        "the table below."
    )
    chart = markup.both(svg.columns, bars, title, quantity="RMS step", missing="no step yet")
    chart += markup.legend(content)
    table = markup.table(
        "Adam's step per array",
        ("array", "RMS step", "largest |step|", "layer"),
        [f"<tbody>{''.join(rows)}</tbody>"],
        "tall",
    )
    return (
        "<h3>How far each array moved in the last step</h3>"
        f'<figure class="chart-box wide">{chart}</figure>{table}<h3>Moments and step</h3>'
    )


def _hyper(adam: Moments) -> str:
    t = "?" if adam.timestep is None else markup.count(adam.timestep)
    beta1, beta2 = markup.number(adam.beta1), markup.number(adam.beta2)
    return f"t = {t}, β₁ = {beta1}, β₂ = {beta2}, ε = {markup.number(adam.epsilon)}"


def _adam_rows(array: ArrayView, hyper: bool) -> list[str]:
    adam = array.adam
    if adam is None:
        return []
    own = f" · {_hyper(adam)}" if hyper else ""
    label = f"{markup.text(array.name)} <small>{markup.text(adam.name)}{own}</small>"
    step_note = "none: timestep 0, no step yet" if adam.timestep == 0 else "none: unreadable state"
    return [
        f'<tr class="group"><th scope="row" colspan="9">{label}</th></tr>',
        _stat_row("m", array.path, "m", adam.m),
        _stat_row("v", array.path, "v", adam.v),
        _stat_row("step", array.path, "step", adam.step, step_note),
    ]
