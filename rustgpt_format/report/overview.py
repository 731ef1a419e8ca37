"""The report's first sections: problems, the checkpoint at a glance, training, network."""

from __future__ import annotations

from collections.abc import Sequence

from rustgpt_format.report import markup, svg
from rustgpt_format.report.content import Content, LayerView, Subject, Training

WORDS_SHOWN = 60

BLOCK = ("SelfAttention", "LayerNorm", "FeedForward", "LayerNorm")


def problems(after: Subject, before: Subject | None) -> str:
    subjects = [s for s in (before, after) if s is not None and s.problems]
    if not subjects:
        return ""
    items = []
    for subject in subjects:
        for problem in subject.problems:
            where = f"<code>{markup.text(problem.path)}</code>: " if problem.path else ""
            rule = (
                f' <span class="rule">[{markup.text(problem.rule)}]</span>' if problem.rule else ""
            )
            who = f"{markup.text(subject.name)}: " if len(subjects) > 1 or before else ""
            items.append(f"<li>{who}{where}{markup.text(problem.message)}{rule}</li>")
    total = sum(len(s.problems) for s in subjects)
    intro = (
        f"<p>The file is not a valid checkpoint: {total} problem{'s' * (total != 1)}, "
        "in the validator's words. What could be read is shown below.</p>"
    )
    return markup.section("problems", "Problems", intro + f"<ul>{''.join(items)}</ul>", "problems")


def glance(content: Content) -> str:
    subject = content.subject
    facts: list[tuple[str, str]] = [("File", markup.text(subject.name))]
    if subject.size is not None:
        facts.append(
            ("Size", f"{markup.count(subject.size)} bytes ({subject.size / 2**20:.1f} MiB)")
        )
    if subject.form:
        facts.append(("Form", markup.text(subject.form)))
    facts.append(("Format", markup.text(content.version or "—")))
    facts.append(("Valid", "no, see the problems above" if subject.problems else "yes"))
    if content.digest:
        facts.append(("SHA-256", f'<code class="digest">{content.digest}</code> (canonical JSON)'))
    config = ", ".join(f"{markup.text(k)} {markup.text(v)}" for k, v in content.config.items())
    facts.append(("Config", config or "—"))
    parameters = sum(layer.parameters for layer in content.layers)
    arrays = sum(len(layer.arrays) for layer in content.layers)
    facts.append(
        (
            "Parameters",
            f"{markup.count(parameters)} in {arrays} arrays, {len(content.layers)} layers",
        )
    )
    states = [a.adam for layer in content.layers for a in layer.arrays if a.adam]
    steps = {s.timestep for s in states if s.timestep is not None}
    timestep = f", timestep {markup.count(steps.pop())}" if len(steps) == 1 else ""
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
        facts.append((f"metadata: {markup.text(key)}", markup.text(value)))
    cells = "".join(f'<div class="fact"><dt>{k}</dt><dd>{v}</dd></div>' for k, v in facts)
    body = f'<dl class="facts">{cells}</dl>'
    for note in subject.notes:
        body += f'<p class="note">Reader warning: {markup.text(note)}</p>'
    if content.skipped:
        shown = ", ".join(f"<code>{markup.text(p)}</code>" for p in content.skipped[:20])
        more = f" and {len(content.skipped) - 20} more" if len(content.skipped) > 20 else ""
        body += f'<p class="note">Not shown (unreadable): {shown}{more}.</p>'
    if content.words is not None:
        words = "".join(
            f"<li><bdi>{markup.text(w)}</bdi></li>" for w in content.words[:WORDS_SHOWN]
        )
        rest = len(content.words) - WORDS_SHOWN
        more = f'<p class="note">… and {markup.count(rest)} more.</p>' if rest > 0 else ""
        body += (
            f"<h3>Vocabulary: {markup.count(len(content.words))} words</h3>"
            f'<ul class="words" aria-label="the first words of the vocabulary">{words}</ul>{more}'
        )
    return markup.section("glance", "At a glance", body)


def _training_fact(training: Training | None) -> str:
    if training is None:
        return "none"
    scheduled = sum(max(p.epochs, 0) for p in training.schedule)
    done = training.epochs_completed
    steps = (
        f", {markup.count(training.steps_completed)} optimizer steps"
        if training.steps_completed
        else ""
    )
    return (
        f"{'?' if done is None else markup.count(done)} of {markup.count(scheduled)} epochs{steps}"
    )


def training(state: Training | None) -> str:
    if state is None:
        return ""
    losses = state.losses
    if not losses:
        return markup.section(
            "training", "Training", "<p>No epoch completed yet: no loss to plot.</p>"
        )
    rows, first = [], 0
    for phase in state.schedule:
        last = min(len(losses), first + max(phase.epochs, 0))
        seen = losses[first:last]
        rows.append(
            f'<tr><th scope="row">{markup.text(phase.name)}</th>'
            f"<td>{markup.count(len(seen))} of {markup.count(phase.epochs)}</td>"
            f"<td>{markup.number(phase.learning_rate)}</td>"
            f"<td>{markup.number(seen[0] if seen else None)}</td>"
            f"<td>{markup.number(seen[-1] if seen else None)}</td>"
            f"<td>{markup.number(min(seen) if seen else None)}</td></tr>"
        )
        first = last
    title = (
        f"Loss per epoch over {len(losses)} epochs: from {losses[0]:.4g} to {losses[-1]:.4g}, "
        f"lowest {min(losses):.4g}; phases shaded. The numbers are in the table beside."
    )
    curve = markup.both(svg.loss_curve, losses, state.schedule, title)
    chart = f'<figure class="chart-box">{curve}</figure>'
    table = markup.table(
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
    return markup.section(
        "training", "Training", f'<div class="pair">{chart}{table}</div>{details}'
    )


def _blocks(layers: Sequence[LayerView]) -> dict[int, int]:
    """Transformer block of each middle layer, when the network is RustGPT's stack of blocks."""
    kinds = [layer.kind for layer in layers[1:-1]]
    if not kinds or len(kinds) % 4 or kinds != list(BLOCK) * (len(kinds) // 4):
        return {}
    return {layer.index: (position // 4) + 1 for position, layer in enumerate(layers[1:-1])}


def network(content: Content) -> str:
    total = sum(layer.parameters for layer in content.layers) or 1
    blocks = _blocks(content.layers)
    items = []
    for layer in content.layers:
        share = layer.parameters / total
        kind = markup.text(layer.kind.lower())
        whole = " whole" if blocks and layer.index not in blocks else ""
        block = (
            f'<span class="block">block {blocks[layer.index]}</span>'
            if layer.index in blocks
            else ""
        )
        scalars = "".join(f" · {markup.text(k)} {markup.text(v)}" for k, v in layer.scalars)
        shapes = ", ".join(f"{markup.text(a.name)} {markup.shape(a.summary)}" for a in layer.arrays)
        items.append(
            f'<li class="c-{kind}{whole}" data-index="{layer.index}" '
            f'data-parameters="{layer.parameters}"><div class="layer-head">'
            f'<span class="idx">{layer.index}</span>'
            f'<span class="kind k-{kind}">{markup.text(layer.kind)}</span>{block}'
            f'<span class="count">{markup.count(layer.parameters)} '
            f"<small>({share:.1%})</small></span>"
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
        f"<p>{len(content.layers)} layers in forward order{shape}; "
        f"{markup.count(total)} parameters.</p>"
    )
    css = "layers stack" if blocks else "layers"
    return markup.section(
        "network", "Network", f'{intro}<ol class="{css}" start="0">{"".join(items)}</ol>'
    )
