"""``train --plot``: the loss per epoch, one curve per phase of the schedule."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rustgpt_format import TrainingState
from rustgpt_model.commands.common import CommandError, check_target, human

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def loss_figure(state: TrainingState) -> Figure:
    """The loss curve of a training block: each phase its own line, colour and legend entry.

    Phases are drawn apart so no line joins the last epoch of one phase to the first of
    the next (a jump in learning rate and corpus, not a step of training); the legend
    sits outside the axes, where it cannot hide the curve.

    >>> from rustgpt_format import TrainingPhase, TrainingState
    >>> phases = [TrainingPhase(name=name, epochs=2, learning_rate=0.1, corpus_sha256="0" * 64)
    ...           for name in ("pretraining", "instruction_tuning")]
    >>> state = TrainingState(schedule=phases, epochs_completed=3, steps_completed=3,
    ...                       loss_history=[3.0, 2.0, 1.5])
    >>> lines = loss_figure(state).axes[0].lines
    >>> [(line.get_label(), [int(x) for x in line.get_xdata()]) for line in lines
    ...  if not line.get_label().startswith("_")]
    [('pre-training', [1, 2]), ('instruction tuning', [3])]
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.2), layout="constrained")
    axes = figure.add_subplot()
    start = 0
    for index, phase in enumerate(state.schedule):
        losses = state.loss_history[start : start + phase.epochs]
        if 0 < start < len(state.loss_history):
            axes.axvline(start + 0.5, color="gray", linestyle=":", linewidth=1)
        if losses:
            epochs = range(start + 1, start + 1 + len(losses))
            axes.plot(epochs, losses, color=f"C{index}", label=human(phase.name))
        start += phase.epochs
    axes.set(
        xlabel="epoch", ylabel="mean cross-entropy", yscale="log", title="RustGPT training loss"
    )
    if axes.get_lines():
        figure.legend(loc="outside lower center", ncols=max(1, len(state.schedule)))
    return figure


def save_loss_plot(state: TrainingState, path: Path) -> None:
    """Write :func:`loss_figure` to ``path`` (its extension names the image format)."""
    loss_figure(state).savefig(path, dpi=120)


def check_plot_target(path: Path, out: Path) -> None:
    """Refuse, before training, a ``--plot`` path that could not be written."""
    from matplotlib.figure import Figure

    check_target(path, "--plot")
    if path.resolve() == out.resolve():
        raise CommandError(f"--plot {path}: the same file as --out")
    kinds = Figure().canvas.get_supported_filetypes()
    kind = path.suffix.lstrip(".").lower()
    if kind and kind not in kinds:
        raise CommandError(
            f"--plot {path}: expected an image extension ({', '.join(sorted(kinds))}), "
            f"found .{kind}"
        )
