"""``rustgpt-format diff``: exit 0 same, 1 different, 2 unreadable; one line per difference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from tests.rustgpt_format.commands.helpers import cli


def test_the_same_checkpoint_in_two_forms(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.safetensors"
    rf.save(tiny_checkpoint(), a)
    rf.save(tiny_checkpoint(), b)
    assert cli("diff", str(a), str(b)) == (0, f"{a} and {b} hold the same checkpoint\n", "")


def test_each_difference_is_one_line(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json.gz"
    first, second = tiny_checkpoint(), tiny_checkpoint()
    second.network[1].w_q[0, :2] = first.network[1].w_q[0, :2] + np.float32(0.25)  # type: ignore[union-attr]
    second.network[2].optimizer_gamma = None  # type: ignore[union-attr]
    second.network[2].epsilon = 1e-3  # type: ignore[union-attr]
    beta = second.network[4].beta  # type: ignore[union-attr]
    beta[0, 0] = -beta[0, 0] if beta[0, 0] else beta[0, 0]
    second.network[5].optimizer.timestep += 1  # type: ignore[union-attr]
    second.metadata = {"note": "changed"}
    rf.save(first, a)
    rf.save(second, b)
    code, out, err = cli("diff", str(a), str(b))
    gap = float(
        np.max(
            np.abs(
                first.network[1].w_q.astype(np.float64) - second.network[1].w_q.astype(np.float64)  # type: ignore[union-attr]
            )
        )
    )
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"network[1].w_q: max abs difference {gap:.9g} (2 of 16 values differ)",
        "network[2].epsilon: 9.999999747378752e-06 vs 0.0010000000474974513",
        "network[2].optimizer_gamma: present vs absent",
        "network[4].beta: max abs difference "
        f"{2 * abs(float(first.network[4].beta[0, 0])):.9g} (1 of 4 values differ)",  # type: ignore[union-attr]
        f"network[5].optimizer.timestep: {first.network[5].optimizer.timestep} vs "  # type: ignore[union-attr]
        f"{first.network[5].optimizer.timestep + 1}",  # type: ignore[union-attr]
        "metadata: absent vs present",
        "2 of 41 arrays differ (3 of 511 values); config, vocab and training same; "
        "network and metadata differ",
    ]


def test_structural_differences(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    rf.save(random_checkpoint(vocab_size=3, embedding_dim=2, hidden_dim=3, max_seq_len=2), a)
    other = random_checkpoint(
        vocab_size=4, embedding_dim=2, hidden_dim=5, max_seq_len=2, middle=["LayerNorm"]
    )
    rf.save(other, b)
    code, out, _ = cli("diff", str(a), str(b))
    assert code == 1
    lines = out.splitlines()
    assert lines[:6] == [
        "config.hidden_dim: 3 vs 5",
        "config.vocab_size: 3 vs 4",
        "vocab.words: 3 words vs 4",
        "vocab.words[2]: '</s>' vs 'w2'",
        "network: 14 layers vs 3",
        "network[0].token_embeddings: shape (3, 2) vs (4, 2)",
    ]
    assert "network[1]: SelfAttention vs LayerNorm" in lines


def test_signed_zeros_differ_in_bits_only(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    first, second = tiny_checkpoint(), tiny_checkpoint()
    first.network[5].b_out[0, 0], second.network[5].b_out[0, 0] = 0.0, -0.0  # type: ignore[union-attr]
    rf.save(first, a)
    rf.save(second, b)
    assert cli("diff", str(a), str(b))[:2] == (
        1,
        "network[5].b_out: max abs difference 0 (signed zeros) (1 of 3 values differ)\n"
        "1 of 43 arrays differ (1 of 519 values); config, vocab, training and metadata same; "
        "network differs\n",
    )


@pytest.mark.parametrize("broken", [b"", b"{", b"\x1f\x8b junk"])
def test_an_unreadable_file_exits_2(broken: bytes, tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    rf.save(tiny_checkpoint(), a)
    b.write_bytes(broken)
    code, out, err = cli("diff", str(a), str(b))
    assert (code, out) == (2, "")
    assert err.startswith(f"{b}: expected ")  # the whole file: no place, no <root>
    assert err.count("\n") == 1


def _trained(epochs: int, losses: list[float], author: str) -> rf.Checkpoint:
    from rustgpt_format.models import TrainingPhase, TrainingState

    checkpoint = tiny_checkpoint()
    phases = [TrainingPhase(name="pretraining", epochs=10, learning_rate=0.0005)]
    checkpoint.training = TrainingState(
        schedule=phases, epochs_completed=epochs, steps_completed=4 * epochs, loss_history=losses
    )
    checkpoint.metadata = {"author": author, "run": "7"}
    return checkpoint


def test_training_and_metadata_name_the_keys_and_values(tmp_path: Path) -> None:
    """Issue 9/10: not `training: present vs present`, but which key and which values."""
    a, b = tmp_path / "a.json", tmp_path / "b.safetensors"
    first = _trained(3, [4.0, 3.0, 2.5], "a")
    second = _trained(5, [4.0, 3.0, 2.25, 2.0, 1.5], "b")
    second.metadata = {"author": "b", "licence": "MIT"}
    rf.save(first, a)
    rf.save(second, b)
    code, out, err = cli("diff", str(a), str(b))
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "training.epochs_completed: 3 vs 5",
        "training.steps_completed: 12 vs 20",
        "training.loss_history: 3 entries vs 5, first difference at [2]",
        "metadata.author: 'a' vs 'b'",
        "metadata.run: '7' vs absent",
        "metadata.licence: absent vs 'MIT'",
        "0 of 43 arrays differ (0 of 519 values); config, vocab and network same; "
        "training and metadata differ",
    ]


def test_same_length_histories_count_the_differing_entries(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    rf.save(_trained(3, [4.0, 3.0, 2.5], "a"), a)
    rf.save(_trained(3, [4.0, 3.5, 2.0], "a"), b)
    assert cli("diff", str(a), str(b))[1].splitlines()[0] == (
        "training.loss_history: 2 of 3 entries differ, first at [1]: 3.0 vs 3.5"
    )


def test_json_output(tmp_path: Path) -> None:
    import json

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    first, second = _trained(3, [4.0, 3.0, 2.5], "a"), _trained(3, [4.0, 3.0, 2.5], "b")
    first.network[1].w_q[0, 0], second.network[1].w_q[0, 0] = 0.25, 0.75  # type: ignore[union-attr]
    rf.save(first, a)
    rf.save(second, b)
    code, out, err = cli("diff", "--json", str(a), str(b))
    assert (code, err) == (1, "")
    document = json.loads(out)
    assert document["same"] is False
    assert document["differences"] == [
        {
            "path": "network[1].w_q",
            "kind": "array",
            "a": None,
            "b": None,
            "max_abs_difference": 0.5,
            "values_differ": 1,
            "values": 16,
        },
        {"path": "metadata.author", "kind": "value", "a": "a", "b": "b"},
    ]
    assert document["summary"]["arrays"] == 43
    assert document["summary"]["arrays_differ"] == 1
    assert document["summary"]["values_differ"] == 1
    assert document["summary"]["sections"] == {
        "config": "same",
        "vocab": "same",
        "network": "differs",
        "training": "same",
        "metadata": "differs",
    }
    same = cli("diff", "--json", str(a), str(a))
    assert same[0] == 0 and json.loads(same[1])["same"] is True


def test_a_field_a_later_version_adds_is_compared_without_a_change_to_diff() -> None:
    """The walk follows model_fields: a new field (here on a subclass) is compared too."""
    from rustgpt_format.commands.diff import compare
    from rustgpt_format.models import Checkpoint

    class Later(Checkpoint):
        licence: str | None = None

    base = tiny_checkpoint()
    fields = {name: getattr(base, name) for name in type(base).model_fields}
    a = Later.model_construct(**fields, licence="MIT")
    b = Later.model_construct(**fields, licence="GPL")
    result = compare(a, b)
    assert [d.text() for d in result.differences] == ["licence: 'MIT' vs 'GPL'"]
    assert result.sections["licence"] is True
