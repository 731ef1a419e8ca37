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
        "network[5].b_out: max abs difference 0 (signed zeros) (1 of 3 values differ)\n",
    )


@pytest.mark.parametrize("broken", [b"", b"{", b"\x1f\x8b junk"])
def test_an_unreadable_file_exits_2(broken: bytes, tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    rf.save(tiny_checkpoint(), a)
    b.write_bytes(broken)
    code, out, err = cli("diff", str(a), str(b))
    assert (code, out) == (2, "")
    assert err.startswith(f"{b}: <root>: expected ")
    assert err.count("\n") == 1
