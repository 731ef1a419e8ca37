"""Every invalid example checkpoint is refused at its path, with its message.

``reader-invalid/`` breaks a rule only the reader checks, ``schema-invalid/`` one the
JSON Schema states (tests/fixtures/README.md). A bare "raises CheckpointError" would
pass if an example were refused for a reason other than the one it was made for
(a typo in the file, a rule that moved): each one is pinned here instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import rustgpt_format as rf

FIXTURES = Path(__file__).parents[1] / "fixtures"

REFUSED = [
    # (file, path of the error, message), with why the file is invalid
    # 2 numbers for a 1x1 array
    (
        "reader-invalid/data-length-disagrees-with-dim.json",
        "network[0].positional_embeddings.data",
        "expected 1 numbers (dim 1x1), found 2",
    ),
    # 2 epochs completed, 1 loss recorded
    (
        "reader-invalid/loss-history-too-short.json",
        "training.loss_history",
        "expected 2 losses (one per completed epoch), found 1",
    ),
    # optimizer.m transposed
    (
        "reader-invalid/moment-shape-disagrees.json",
        "network[1].optimizer.m",
        "expected shape (1, 2) (that of w_out), found (2, 1)",
    ),
    # §6.1: the output layer first
    (
        "reader-invalid/output-projection-first.json",
        "network[0].type",
        "expected Embeddings first, found OutputProjection",
    ),
    # b_out one column too many
    (
        "reader-invalid/shape-disagrees-with-config.json",
        "network[1].b_out",
        "expected shape (1, 2) (vocab_size = 2, from w_out), found (1, 3)",
    ),
    # beta1 must be below 1
    (
        "schema-invalid/adam-beta-one.json",
        "network[1].optimizer.beta1",
        "expected a value < 1.0, found 1.0",
    ),
    # a negative step count
    (
        "schema-invalid/adam-timestep-negative.json",
        "network[1].optimizer.timestep",
        "expected a value ≥ 0, found -1",
    ),
    # a key the array object does not have
    (
        "schema-invalid/array-extra-key.json",
        "network[0].positional_embeddings.shape",
        "unknown key in an array object (keys are v, dim, data)",
    ),
    # an ndarray-serde version other than 1
    (
        "schema-invalid/array-version-2.json",
        "network[0].positional_embeddings.v",
        "expected 1 (ndarray-serde version), found 2",
    ),
    # no hidden_dim
    ("schema-invalid/config-missing-key.json", "config.hidden_dim", "missing required key"),
    # embedding_dim 0
    ("schema-invalid/config-zero.json", "config.embedding_dim", "expected a value > 0, found 0"),
    # 3.5e38 rounds to infinity in float32
    (
        "schema-invalid/data-beyond-float32.json",
        "network[0].positional_embeddings.data[0]",
        "expected a finite float32 (magnitude below 3.4028235e38), found 3.5e+38",
    ),
    # a number written as a string
    (
        "schema-invalid/data-string.json",
        "network[0].positional_embeddings.data[0]",
        "expected a number, found string '0.25'",
    ),
    # a negative dimension
    (
        "schema-invalid/dim-negative.json",
        "network[0].positional_embeddings.dim[0]",
        "expected a non-negative integer, found -1",
    ),
    # three axes
    (
        "schema-invalid/dim-three-axes.json",
        "network[0].positional_embeddings.dim",
        "expected [rows, cols], found an array of 3 items",
    ),
    # another format name
    (
        "schema-invalid/format-other.json",
        "format",
        "expected 'rustgpt-checkpoint', found string 'rustgpt'",
    ),
    # a layer without its tag
    (
        "schema-invalid/layer-type-missing.json",
        "network[1]",
        "missing layer 'type', expected one of 'Embeddings', 'SelfAttention', 'FeedForward', 'LayerNorm', 'OutputProjection'",
    ),
    # a kind RustGPT does not have
    (
        "schema-invalid/layer-type-unknown.json",
        "network[1].type",
        "unknown layer type 'Dropout', expected one of 'Embeddings', 'SelfAttention', 'FeedForward', 'LayerNorm', 'OutputProjection'",
    ),
    # metadata values are strings
    ("schema-invalid/metadata-not-string.json", "metadata.epochs", "expected a string, found 3"),
    # no format key, but a format_version: one of ours that lost its format key
    (
        "schema-invalid/missing-format.json",
        "format",
        "missing required key (expected 'rustgpt-checkpoint')",
    ),
    # a key the format does not have
    (
        "schema-invalid/unknown-top-level-key.json",
        "extra",
        "unknown key (a typo, or a key this format version does not have)",
    ),
    # a version without its minor part
    (
        "schema-invalid/version-not-major-minor.json",
        "format_version",
        "expected a version \"MAJOR.MINOR\" such as '1.0', found string '1'",
    ),
    # a number among the words
    ("schema-invalid/vocab-words-not-strings.json", "vocab.words[1]", "expected a string, found 2"),
    # </s> twice
    (
        "schema-invalid/vocab-words-not-unique.json",
        "vocab.words[1]",
        "expected unique words, found '</s>' again (first at words[0])",
    ),
    # no </s>
    (
        "schema-invalid/vocab-words-without-end-of-sequence.json",
        "vocab.words",
        "expected the end-of-sequence token '</s>', not found",
    ),
]


@pytest.mark.parametrize(("name", "path", "message"), REFUSED, ids=[row[0] for row in REFUSED])
def test_each_invalid_example_is_refused_at_its_path(name: str, path: str, message: str) -> None:
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads((FIXTURES / name).read_bytes())
    assert (caught.value.path, caught.value.message) == (path, message)


def test_the_table_holds_every_invalid_example() -> None:
    on_disk = {
        f"{folder}/{path.name}"
        for folder in ("reader-invalid", "schema-invalid")
        for path in (FIXTURES / folder).glob("*.json")
    }
    assert on_disk == {row[0] for row in REFUSED}
