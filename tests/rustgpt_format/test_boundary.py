"""The writers' check (``boundary.checked``) and its finiteness test (``all_finite``).

``checked`` used to validate ``checkpoint.model_dump()`` as it stood, every array
checked element by element. It now clears finite arrays by their largest and smallest value and
leaves every other rule to the same validator. The table below breaks checkpoints in
every way a Python caller can after construction and asserts that the new check
refuses exactly what the old one did, with the same path and message.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.boundary import all_finite, checked, validated
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint


def old_checked(checkpoint: rf.Checkpoint) -> rf.Checkpoint:
    """The check as it was before issue 13: every array checked element by element."""
    return validated(rf.Checkpoint, checkpoint.model_dump())


def layer(checkpoint: rf.Checkpoint, index: int) -> Any:
    return checkpoint.network[index]


BREAKAGES: list[tuple[str, Callable[[rf.Checkpoint], None]]] = [
    # the layers, their order and their number (§6.1)
    ("a layer moved", lambda c: c.network.__setitem__(0, c.network[-1])),
    ("the last layer dropped", lambda c: c.network.pop()),
    ("a dict for a layer", lambda c: c.network.__setitem__(1, {"type": "SelfAttention"})),
    ("None for a layer", lambda c: c.network.__setitem__(2, None)),
    # arrays: type, dtype, rank, shape (§6.2, §6.3)
    ("a list for an array", lambda c: setattr(layer(c, 1), "w_q", [[0.0] * 4] * 4)),
    ("float64", lambda c: setattr(layer(c, 1), "w_k", np.zeros((4, 4)))),
    ("int32", lambda c: setattr(layer(c, 1), "w_v", np.zeros((4, 4), np.int32))),
    ("1-D", lambda c: setattr(layer(c, 3), "b1", np.zeros(8, np.float32))),
    ("3-D", lambda c: setattr(layer(c, 2), "gamma", np.zeros((1, 1, 4), np.float32))),
    ("a wrong shape", lambda c: setattr(layer(c, 1), "w_q", np.zeros((3, 3), np.float32))),
    ("shapes against config", lambda c: setattr(c.config, "embedding_dim", 5)),
    (
        "a moment's shape",
        lambda c: setattr(layer(c, 1), "optimizer_w_k", rf.AdamState.fresh((4, 3))),
    ),
    (
        "a v of another shape",
        lambda c: setattr(layer(c, 1).optimizer_w_k, "v", np.zeros((4, 3), np.float32)),
    ),
    # non-finite values anywhere (parameters, moments, the last element, overflowing sums)
    ("a NaN", lambda c: layer(c, 0).token_embeddings.__setitem__((1, 0), np.nan)),
    ("-inf in a bias", lambda c: layer(c, 5).b_out.__setitem__((0, 2), -np.inf)),
    ("inf in a moment", lambda c: layer(c, 3).optimizer_w1.v.__setitem__((3, 7), np.inf)),
    ("NaN last", lambda c: layer(c, 5).optimizer.m.__setitem__((-1, -1), np.nan)),
    (
        "huge and inf",
        lambda c: layer(c, 1).w_q.__setitem__(slice(None), [[3e38] * 3 + [np.inf]] * 4),
    ),
    (
        "NaN in a non-contiguous array",
        lambda c: setattr(layer(c, 1), "w_q", np.full((4, 8), np.nan, np.float32)[:, ::2]),
    ),
    # scalars
    ("epsilon 0", lambda c: setattr(layer(c, 2), "epsilon", 0.0)),
    ("epsilon NaN", lambda c: setattr(layer(c, 2), "epsilon", float("nan"))),
    ("epsilon past float32", lambda c: setattr(layer(c, 2), "epsilon", 1e39)),
    ("beta1 1.5", lambda c: setattr(layer(c, 1).optimizer_w_q, "beta1", 1.5)),
    ("a negative timestep", lambda c: setattr(layer(c, 1).optimizer_w_q, "timestep", -1)),
    ("a float timestep", lambda c: setattr(layer(c, 1).optimizer_w_q, "timestep", 1.0)),
    ("embedding_dim a string", lambda c: setattr(layer(c, 1), "embedding_dim", "4")),
    ("config 0", lambda c: setattr(c.config, "max_seq_len", 0)),
    ("a wrong type tag", lambda c: setattr(layer(c, 1), "type", "FeedForward")),
    # vocabulary, version, training, metadata
    ("too few words", lambda c: setattr(c, "vocab", rf.Vocab.model_construct(words=("a", "</s>")))),
    (
        "a repeated word",
        lambda c: setattr(c, "vocab", rf.Vocab.model_construct(words=("a", "a", "</s>"))),
    ),
    (
        "no end of sequence",
        lambda c: setattr(c, "vocab", rf.Vocab.model_construct(words=("a", "b", "c"))),
    ),
    (
        "a word with a space",
        lambda c: setattr(c, "vocab", rf.Vocab.model_construct(words=("a b", "c", "</s>"))),
    ),
    ("format_version 2.0", lambda c: setattr(c, "format_version", "2.0")),
    ("format_version 1.x", lambda c: setattr(c, "format_version", "1.x")),
    ("metadata not str", lambda c: setattr(c, "metadata", {"a": 1})),
    (
        "training ahead of its schedule",
        lambda c: setattr(
            c,
            "training",
            rf.TrainingState.model_construct(
                schedule=[], epochs_completed=1, loss_history=[1.0], steps_completed=0, seed=None
            ),
        ),
    ),
]


def outcome(check: Callable[[rf.Checkpoint], rf.Checkpoint], broken: rf.Checkpoint) -> Any:
    """``None`` when the check passes, else what it raised (type, path, message, problems)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydantic's serializer warns on wrong types
            check(broken)
    except rf.CheckpointError as error:
        return ("CheckpointError", error.path, error.message, [str(p) for p in error.problems])
    except Exception as error:  # compared, not swallowed
        return (type(error).__name__, str(error))
    return None


@pytest.mark.parametrize(("name", "breakage"), BREAKAGES, ids=[name for name, _ in BREAKAGES])
def test_the_check_refuses_exactly_what_the_full_validation_refused(
    name: str, breakage: Callable[[rf.Checkpoint], None]
) -> None:
    broken = tiny_checkpoint()
    breakage(broken)
    before = outcome(old_checked, broken)
    assert before is not None, f"{name}: the table holds only checkpoints the old check refused"
    assert outcome(checked, broken) == before


def test_valid_checkpoints_pass_both_checks_and_are_not_copied() -> None:
    for checkpoint in [
        tiny_checkpoint(),
        random_checkpoint(vocab_size=7, embedding_dim=6, hidden_dim=5, max_seq_len=3),
    ]:
        arrays = [id(a) for layer in checkpoint.network for a in layer.parameters().values()]
        assert old_checked(checkpoint) == checkpoint
        assert checked(checkpoint) == checkpoint
        assert [
            id(a) for layer in checkpoint.network for a in layer.parameters().values()
        ] == arrays


def test_the_largest_finite_values_pass() -> None:
    checkpoint = tiny_checkpoint()
    layer(checkpoint, 1).w_q[:] = np.float32(3.4028235e38)  # the largest float32
    assert all_finite(layer(checkpoint, 1).w_q)
    assert checked(checkpoint) == checkpoint


LENGTHS = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 65536, 65537, 131075]


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_sees_one_bad_value_at_any_position(length: int, bad: float) -> None:
    """Every position near both ends, SIMD lane edges and the edge of all_finite's blocks."""
    rng = np.random.default_rng(length)
    values = rng.standard_normal(length).astype(np.float32)
    assert all_finite(values)
    positions = sorted({*range(min(length, 40)), *range(max(0, length - 40), length)})
    for position in positions:
        copy = values.copy()
        copy[position] = bad
        assert not all_finite(copy), (length, position)
        assert not all_finite(copy.reshape(1, -1))


def test_all_finite_of_special_values() -> None:
    finite = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-38, 3.4028235e38, -3.4028235e38], np.float32)
    assert all_finite(finite)
    assert all_finite(np.zeros((0, 4), np.float32))
    assert all_finite(np.full(10_000, 3e38, np.float32))  # a sum would overflow
    assert not all_finite(np.array([np.inf, -np.inf], np.float32))
    assert not all_finite(np.array([3e38, 3e38, np.nan], np.float32))


NOT_FINITE_BITS = [0x7F800000, 0x7F800001, 0x7FC00000, 0x7FFFFFFF, 0xFF800000, 0xFF800001, 0xFFC00000, 0xFFFFFFFF]
FINITE_EDGE_BITS = [0x00000000, 0x00000001, 0x7F7FFFFF, 0x80000000, 0x80000001, 0xFF7FFFFF]


@pytest.mark.parametrize("bits", NOT_FINITE_BITS, ids=hex)
def test_all_finite_sees_every_kind_of_nan_and_infinity_by_its_bits(bits: int) -> None:
    """Both signs, quiet and signalling NaNs, the smallest and largest payloads.

    ``all_finite`` reads the floats as integers: sign-0 ones as int32 against +inf's bits,
    sign-1 ones as uint32 against -inf's; a NaN with its sign bit set is only seen by the
    second reading.
    """
    values = np.zeros(70_000, np.float32)
    values.view(np.uint32)[66_000] = bits  # in the second block
    assert not all_finite(values)
    assert not all_finite(values[::2][33_000:])  # not contiguous: a copy is read
    values.view(np.uint32)[:] = FINITE_EDGE_BITS * (70_000 // len(FINITE_EDGE_BITS)) + [0] * (
        70_000 % len(FINITE_EDGE_BITS)
    )
    assert all_finite(values)


def test_all_finite_of_other_dtypes_reads_the_floats() -> None:
    assert all_finite(np.array([1e300, -0.0], np.float64))
    assert not all_finite(np.array([1.0, -np.nan], np.float64))
    assert not all_finite(np.array([1.0, np.inf], ">f4"))


@pytest.mark.parametrize(
    ("suffix", "dialect"),
    [(".safetensors", None), (".json", None), (".json", "rustgpt")],
    ids=["safetensors", "json", "rustgpt json"],
)
@pytest.mark.parametrize(("name", "breakage"), BREAKAGES, ids=[name for name, _ in BREAKAGES])
def test_a_binary_save_refuses_alike_when_its_writer_checks_the_values(
    tmp_path: Path,
    name: str,
    breakage: Callable[[rf.Checkpoint], None],
    suffix: str,
    dialect: Any,
) -> None:
    """The safetensors writer checks each array as it writes it, and the JSON encoding as
    it scans each array for the float32 pair that needs longer text, not before: same
    error (from ``save`` and ``dumps``), and the file at the path is untouched, no
    temporary file left."""
    target = tmp_path / f"model{suffix}"
    rf.save(tiny_checkpoint(), target, dialect=dialect)
    before = target.read_bytes()
    broken = tiny_checkpoint()
    breakage(broken)
    expected = outcome(old_checked, broken)
    assert outcome(lambda c: rf.save(c, target, dialect=dialect), broken) == expected
    form = "safetensors" if suffix == ".safetensors" else "json"
    assert outcome(lambda c: rf.dumps(c, form=form, dialect=dialect), broken) == expected
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
