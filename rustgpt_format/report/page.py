"""The report page: one self-contained HTML document, built from :mod:`.content`.

No script, no font, no URL: a Content-Security-Policy in the page forbids fetching
anything, so even a string that slipped through unescaped could not load a thing.
Every string that comes from a file (words, metadata, names, problems) goes through
:func:`_text`, which escapes it and shows invisible characters as ``\\u....``.
Numbers are printed to 4 significant digits and carried in full in ``data-``
attributes, which the tests read back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from html import escape

from rustgpt_format import FORMAT_VERSION, Checkpoint
from rustgpt_format.report import svg
from rustgpt_format.report.content import (
    ArrayView,
    Content,
    LayerView,
    Moments,
    Subject,
    Training,
    architecture_difference,
    changes,
    from_checkpoint,
    from_document,
)
from rustgpt_format.report.digest import canonical_sha256
from rustgpt_format.report.stats import Change, Summary
from rustgpt_format.report.style import CSS

WORDS_SHOWN = 60
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
BLOCK = ("SelfAttention", "LayerNorm", "FeedForward", "LayerNorm")


def render(after: Subject | Checkpoint, *, before: Subject | Checkpoint | None = None) -> str:
    """The report of ``after`` as HTML; with ``before``, also what changed since it.

    Raises ValueError when both are valid and their architectures differ.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> page = render(tiny_checkpoint())
    >>> page.startswith("<!doctype html>"), "network[1].w_q" in page
    (True, True)
    """
    after = after if isinstance(after, Subject) else Subject("checkpoint", after)
    if isinstance(before, Checkpoint):
        before = Subject("before", before)
    found = None
    if before is not None and before.checkpoint and after.checkpoint:
        difference = architecture_difference(before.checkpoint, after.checkpoint)
        if difference:
            raise ValueError(f"different architectures: {difference}")
        found = changes(before.checkpoint, after.checkpoint)
    if after.checkpoint is not None:
        content = from_checkpoint(after, digest=canonical_sha256(after.checkpoint), changes=found)
    else:
        content = from_document(after)
    sections = [_problems(after, before), _glance(content)]
    if before is not None:
        sections.append(_comparison(content, before, found))
    sections += [_training(content.training), _network(content), _arrays(content), _adam(content)]
    title = f"{after.name} · checkpoint report"
    nav = "".join(
        f'<a href="#{key}">{label}</a>'
        for key, label, shown in (
            ("problems", "Problems", bool(after.problems or (before and before.problems))),
            ("glance", "At a glance", True),
            ("changes", "Changes", before is not None),
            ("training", "Training", content.training is not None),
            ("network", "Network", True),
            ("arrays", "Arrays", True),
            ("adam", "Adam", True),
        )
        if shown
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        f"<title>{_text(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<header><p class="kicker">RustGPT checkpoint report</p><h1>{_text(after.name)}</h1>'
        f'<nav aria-label="Sections">{nav}</nav></header>\n<main>\n'
        + "\n".join(s for s in sections if s)
        + f"\n</main>\n<footer>Written by rustgpt-format (format {FORMAT_VERSION}). "
        "Statistics in float64 over every element; std is the population one.</footer>\n"
        "</body>\n</html>\n"
    )


def _both(chart: Callable[..., str], *args: object, **options: object) -> str:
    """A chart drawn twice: for a wide screen and print, and narrower (larger text) for a phone."""
    return (
        f'<div class="for-wide">{chart(*args, **options)}</div>'
        f'<div class="for-narrow">{chart(*args, **options, width=400.0)}</div>'
    )


def _text(value: object) -> str:
    """Escaped for HTML, invisible and control characters shown as ``\\uXXXX``."""
    shown = "".join(c if c.isprintable() or c == " " else f"\\u{ord(c):04x}" for c in str(value))
    return escape(shown, quote=True)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _count(value: int) -> str:
    return f"{value:,}"


def _section(key: str, title: str, body: str, css: str = "") -> str:
    css_attr = f' class="{css}"' if css else ""
    heading = f'<h2 id="{key}-h">{title}</h2>'
    return f'<section id="{key}"{css_attr} aria-labelledby="{key}-h">{heading}{body}</section>'


def _table(caption: str, head: Sequence[str], rows: Iterable[str], css: str = "") -> str:
    cells = "".join(f'<th scope="col">{h}</th>' for h in head)
    return (
        f'<div class="scroll {css}" tabindex="0" role="region" aria-label="{_text(caption)}">'
        f"<table><caption>{_text(caption)}</caption><thead><tr>{cells}</tr></thead>"
        f"{''.join(rows)}</table></div>"
    )


def _problems(after: Subject, before: Subject | None) -> str:
    subjects = [s for s in (before, after) if s is not None and s.problems]
    if not subjects:
        return ""
    items = []
    for subject in subjects:
        for problem in subject.problems:
            where = f"<code>{_text(problem.path)}</code>: " if problem.path else ""
            rule = f' <span class="rule">[{_text(problem.rule)}]</span>' if problem.rule else ""
            who = f"{_text(subject.name)}: " if len(subjects) > 1 or before else ""
            items.append(f"<li>{who}{where}{_text(problem.message)}{rule}</li>")
    total = sum(len(s.problems) for s in subjects)
    intro = (
        f"<p>The file is not a valid checkpoint: {total} problem{'s' * (total != 1)}, "
        "in the validator's words. What could be read is shown below.</p>"
    )
    return _section("problems", "Problems", intro + f"<ul>{''.join(items)}</ul>", "problems")


def _glance(content: Content) -> str:
    subject = content.subject
    facts: list[tuple[str, str]] = [("File", _text(subject.name))]
    if subject.size is not None:
        facts.append(("Size", f"{_count(subject.size)} bytes ({subject.size / 2**20:.1f} MiB)"))
    if subject.form:
        facts.append(("Form", _text(subject.form)))
    facts.append(("Format", _text(content.version or "—")))
    facts.append(("Valid", "no, see the problems above" if subject.problems else "yes"))
    if content.digest:
        facts.append(("SHA-256", f'<code class="digest">{content.digest}</code> (canonical JSON)'))
    config = ", ".join(f"{_text(k)} {_text(v)}" for k, v in content.config.items())
    facts.append(("Config", config or "—"))
    parameters = sum(layer.parameters for layer in content.layers)
    arrays = sum(len(layer.arrays) for layer in content.layers)
    facts.append(
        ("Parameters", f"{_count(parameters)} in {arrays} arrays, {len(content.layers)} layers")
    )
    states = [a.adam for layer in content.layers for a in layer.arrays if a.adam]
    steps = {s.timestep for s in states if s.timestep is not None}
    timestep = f", timestep {_count(steps.pop())}" if len(steps) == 1 else ""
    facts.append(
        (
            "Optimizer",
            f"Adam state for {len(states)} of {arrays} arrays{timestep}"
            if states
            else "none: inference only",
        )
    )
    training = content.training
    facts.append(("Training", _training_fact(training)))
    for key, value in content.metadata.items():
        facts.append((f"metadata: {_text(key)}", _text(value)))
    cells = "".join(f'<div class="fact"><dt>{k}</dt><dd>{v}</dd></div>' for k, v in facts)
    body = f'<dl class="facts">{cells}</dl>'
    for note in subject.notes:
        body += f'<p class="note">Reader warning: {_text(note)}</p>'
    if content.skipped:
        shown = ", ".join(f"<code>{_text(p)}</code>" for p in content.skipped[:20])
        more = f" and {len(content.skipped) - 20} more" if len(content.skipped) > 20 else ""
        body += f'<p class="note">Not shown (unreadable): {shown}{more}.</p>'
    if content.words is not None:
        words = "".join(f"<li><bdi>{_text(w)}</bdi></li>" for w in content.words[:WORDS_SHOWN])
        rest = len(content.words) - WORDS_SHOWN
        more = f'<p class="note">… and {_count(rest)} more.</p>' if rest > 0 else ""
        body += (
            f"<h3>Vocabulary: {_count(len(content.words))} words</h3>"
            f'<ul class="words" aria-label="the first words of the vocabulary">{words}</ul>{more}'
        )
    return _section("glance", "At a glance", body)


def _training_fact(training: Training | None) -> str:
    if training is None:
        return "none"
    scheduled = sum(max(p.epochs, 0) for p in training.schedule)
    done = training.epochs_completed
    steps = (
        f", {_count(training.steps_completed)} optimizer steps" if training.steps_completed else ""
    )
    return f"{'?' if done is None else _count(done)} of {_count(scheduled)} epochs{steps}"


def _training(training: Training | None) -> str:
    if training is None:
        return ""
    losses = training.losses
    if not losses:
        return _section("training", "Training", "<p>No epoch completed yet: no loss to plot.</p>")
    rows, first = [], 0
    for phase in training.schedule:
        last = min(len(losses), first + max(phase.epochs, 0))
        seen = losses[first:last]
        rows.append(
            f'<tr><th scope="row">{_text(phase.name)}</th>'
            f"<td>{_count(len(seen))} of {_count(phase.epochs)}</td>"
            f"<td>{_num(phase.learning_rate)}</td>"
            f"<td>{_num(seen[0] if seen else None)}</td><td>{_num(seen[-1] if seen else None)}</td>"
            f"<td>{_num(min(seen) if seen else None)}</td></tr>"
        )
        first = last
    title = (
        f"Loss per epoch over {len(losses)} epochs: from {losses[0]:.4g} to {losses[-1]:.4g}, "
        f"lowest {min(losses):.4g}; phases shaded. The numbers are in the table beside."
    )
    curve = _both(svg.loss_curve, losses, training.schedule, title)
    chart = f'<figure class="chart-box">{curve}</figure>'
    table = _table(
        "Loss by phase",
        ("phase", "epochs", "rate", "first", "last", "lowest"),
        [f"<tbody>{''.join(rows)}</tbody>"],
    )
    every = "".join(
        f'<li value="{i + 1}" data-loss="{x!r}">{x:.6g}</li>' for i, x in enumerate(losses)
    )
    details = (
        f'<details><summary>Every epoch\'s loss</summary><ol class="losses">{every}</ol></details>'
    )
    return _section("training", "Training", f'<div class="pair">{chart}{table}</div>{details}')


def _blocks(layers: Sequence[LayerView]) -> dict[int, int]:
    """Transformer block of each middle layer, when the network is RustGPT's stack of blocks."""
    kinds = [layer.kind for layer in layers[1:-1]]
    if not kinds or len(kinds) % 4 or kinds != list(BLOCK) * (len(kinds) // 4):
        return {}
    return {layer.index: (position // 4) + 1 for position, layer in enumerate(layers[1:-1])}


def _network(content: Content) -> str:
    total = sum(layer.parameters for layer in content.layers) or 1
    blocks = _blocks(content.layers)
    items = []
    for layer in content.layers:
        share = layer.parameters / total
        kind = _text(layer.kind.lower())
        whole = " whole" if blocks and layer.index not in blocks else ""
        block = (
            f'<span class="block">block {blocks[layer.index]}</span>'
            if layer.index in blocks
            else ""
        )
        scalars = "".join(f" · {_text(k)} {_text(v)}" for k, v in layer.scalars)
        shapes = ", ".join(f"{_text(a.name)} {_shape(a.summary)}" for a in layer.arrays)
        items.append(
            f'<li class="c-{kind}{whole}" data-index="{layer.index}" '
            f'data-parameters="{layer.parameters}"><div class="layer-head">'
            f'<span class="idx">{layer.index}</span>'
            f'<span class="kind k-{kind}">{_text(layer.kind)}</span>{block}'
            f'<span class="count">{_count(layer.parameters)} <small>({share:.1%})</small></span>'
            f'</div><div class="share" aria-hidden="true">'
            f'<span style="width:{share * 100:.2f}%"></span></div>'
            f'<p class="shapes">{shapes}{scalars}</p></li>'
        )
    shape = (
        f", RustGPT's stack: embeddings, {max(blocks.values())} transformer blocks "
        "(attention, norm, feed-forward, norm), output projection"
        if blocks
        else ""
    )
    intro = (
        f"<p>{len(content.layers)} layers in forward order{shape}; {_count(total)} parameters.</p>"
    )
    css = "layers stack" if blocks else "layers"
    return _section(
        "network", "Network", f'{intro}<ol class="{css}" start="0">{"".join(items)}</ol>'
    )


def _shape(summary: Summary) -> str:
    return "(" + ", ".join(str(n) for n in summary.shape) + ")"


STAT_HEAD = ("array", "shape", "mean", "std", "min", "max", "norm", "zeros", "histogram")


def _stat_row(label: str, path: str, of: str, summary: Summary | None, note: str = "") -> str:
    head = f'<th scope="row">{label}</th><td>{_shape(summary) if summary else "—"}</td>'
    if summary is None:
        return (
            f'<tr data-path="{_text(path)}" data-of="{of}">{head}<td colspan="7">{note}</td></tr>'
        )
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
        f" <small>({_count(summary.undefined)} undefined: v &lt; 0)</small>"
        if summary.undefined
        else ""
    )
    return (
        f'<tr data-path="{_text(path)}" data-of="{of}" {attrs} data-counts="{counts}">{head}'
        f"<td>{_num(summary.mean)}{undefined}</td><td>{_num(summary.std)}</td><td>{_num(summary.min)}</td>"
        f"<td>{_num(summary.max)}</td><td>{_num(summary.norm)}</td><td>{summary.zeros:.1%}</td>"
        f"<td>{svg.histogram(summary.counts, title)}</td></tr>"
    )


def _layer_group(layer: LayerView, rows: Sequence[str]) -> str:
    head = (
        f'<tr class="layer"><th scope="rowgroup" colspan="9">network[{layer.index}] · '
        f'<span class="k-{_text(layer.kind.lower())}">{_text(layer.kind)}</span></th></tr>'
    )
    return f"<tbody>{head}{''.join(rows)}</tbody>"


def _arrays(content: Content) -> str:
    groups = [
        _layer_group(
            layer, [_stat_row(_text(a.name), a.path, "parameter", a.summary) for a in layer.arrays]
        )
        for layer in content.layers
    ]
    intro = "<p>Every parameter array; each histogram spans its array's min to max.</p>"
    return _section("arrays", "Arrays", intro + _table("Statistics per array", STAT_HEAD, groups))


def _adam(content: Content) -> str:
    states = [a.adam for layer in content.layers for a in layer.arrays if a.adam]
    if not states:
        return _section(
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
    table = _table("Adam state per array", STAT_HEAD, groups)
    return _section("adam", "Adam", intro + _step_sizes(content) + table)


def _legend(content: Content) -> str:
    """The colours of the layer kinds, under a chart of columns."""
    kinds = dict.fromkeys(layer.kind for layer in content.layers)
    items = "".join(
        f'<li><span class="swatch k-{_text(kind.lower())}" aria-hidden="true"></span>'
        f"{_text(kind)}</li>"
        for kind in kinds
    )
    return f'<figcaption><ul class="legend">{items}</ul></figcaption>'


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
                f'<tr data-path="{_text(array.path)}" data-rms="{rms!r}">'
                f'<th scope="row">{_text(array.path)}</th><td>{_num(rms)}</td>'
                f"<td>{_num(largest)}</td><td>{_text(layer.kind)}</td></tr>"
            )
    if not any(value is not None for *_, value in bars):
        return ""
    title = (
        f"Root mean square of Adam's last step, per unit learning rate, for each of "
        f"{len(rows)} arrays in forward order, coloured by layer kind. The numbers are in "
        "the table below."
    )
    chart = _both(svg.columns, bars, title, quantity="RMS step", missing="no step yet")
    chart += _legend(content)
    table = _table(
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
    t = "?" if adam.timestep is None else _count(adam.timestep)
    return f"t = {t}, β₁ = {_num(adam.beta1)}, β₂ = {_num(adam.beta2)}, ε = {_num(adam.epsilon)}"


def _adam_rows(array: ArrayView, hyper: bool) -> list[str]:
    adam = array.adam
    if adam is None:
        return []
    own = f" · {_hyper(adam)}" if hyper else ""
    label = f"{_text(array.name)} <small>{_text(adam.name)}{own}</small>"
    step_note = "none: timestep 0, no step yet" if adam.timestep == 0 else "none: unreadable state"
    return [
        f'<tr class="group"><th scope="row" colspan="9">{label}</th></tr>',
        _stat_row("m", array.path, "m", adam.m),
        _stat_row("v", array.path, "v", adam.v),
        _stat_row("step", array.path, "step", adam.step, step_note),
    ]


def _comparison(content: Content, before: Subject, found: dict[str, Change] | None) -> str:
    if found is None:
        return _section(
            "changes",
            f"Changes since {_text(before.name)}",
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
                f'<tr data-path="{_text(array.path)}" data-relative="{relative!r}" '
                f'data-changed="{c.changed!r}" data-difference="{c.difference_norm!r}">'
                f'<th scope="row">{_text(array.path)}</th><td>{_num(relative)}{note}</td>'
                f"<td>{c.changed:.1%}</td><td>{_num(c.before_norm)}</td>"
                f"<td>{_num(c.difference_norm)}</td><td>{_text(layer.kind)}</td></tr>"
            )
    title = (
        f"Relative change ||after − before|| / ||before|| of each of {len(rows)} arrays in "
        "forward order, coloured by layer kind. The numbers are in the table below."
    )
    drawn = _both(
        svg.columns, bars, title, quantity="relative change", missing="before is all zeros"
    )
    chart = f'<figure class="chart-box wide">{drawn}{_legend(content)}</figure>'
    table = _table(
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
        f"<p>What training did to each array between <b>{_text(before.name)}</b> and this "
        f"checkpoint. {_extremes(content)}</p>"
    )
    return _section("changes", "Changes", intro + words + chart + table)


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
        f"<code>{_text(most[1])}</code> ({_num(most[0])}), the least "
        f"<code>{_text(least[1])}</code> ({_num(least[0])})."
    )
