"""Writing a checkpoint: checked first, then encoded by its form, then replaced atomically."""

from __future__ import annotations

from pathlib import Path

from rustgpt_format.atomic import write_atomically
from rustgpt_format.boundary import checked
from rustgpt_format.forms import FORMS, Dialect, WriteOptions
from rustgpt_format.models import Checkpoint


def dumps(
    checkpoint: Checkpoint,
    *,
    form: str = "json",
    indent: int | None = None,
    dialect: Dialect | None = None,
) -> bytes:
    """The bytes of ``checkpoint`` in ``form`` (a name in the registry of forms).

    The checkpoint is checked against every rule a reader applies first, so nothing
    is written that :func:`rustgpt_format.loads` would refuse. The same checkpoint
    gives the same bytes.

    >>> import rustgpt_format as rf
    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> rf.dumps(tiny_checkpoint())[:30]
    b'{"format":"rustgpt-checkpoint"'
    """
    chosen = FORMS.named(form)
    options = WriteOptions(indent=indent, dialect=dialect or chosen.dialects[0])
    chosen.check_options(options)
    # A form that checks each array's values as it encodes them is spared a pass here.
    checked(checkpoint, values=not getattr(chosen, "checks_values", False))
    return chosen.encode(checkpoint, options)


def save(
    checkpoint: Checkpoint,
    path: str | Path,
    *,
    form: str | None = None,
    indent: int | None = None,
    dialect: Dialect | None = None,
) -> None:
    """Write ``checkpoint`` to ``path`` atomically, in ``form`` or the one its ending names.

    ``.safetensors`` is the binary form, ``.gz`` gzipped JSON, ``.bin`` RustGPT's
    bincode, anything else JSON (``indent=2`` for a readable file);
    ``dialect="rustgpt"`` writes RustGPT's own JSON, for RustGPT's ``LLM::load``
    (each form writes its first dialect by default: RustGPT's for ``.bin``). The
    checkpoint is checked first, so nothing is
    written that :func:`rustgpt_format.load` would refuse; the bytes go to a temporary
    file in the same folder, which is flushed, fsynced and renamed over ``path``: a
    reader sees the old file or the new one, never a mixture, and a failure leaves the
    old file as it was.
    """
    chosen = FORMS.named(form) if form is not None else FORMS.for_path(path)
    options = WriteOptions(indent=indent, dialect=dialect or chosen.dialects[0])
    chosen.check_options(options)
    # A form that checks each array's values as it encodes or writes them (safetensors,
    # JSON) is spared a pass over every array here; it refuses a bad one with the full
    # check's error before anything is renamed over ``path``.
    checked(checkpoint, values=not getattr(chosen, "checks_values", False))
    if chosen.streams:
        write_atomically(Path(path), lambda temporary: chosen.write(checkpoint, temporary, options))
    else:
        write_atomically(Path(path), chosen.encode(checkpoint, options))
