"""Hypothesis strategies for valid checkpoints of every shape the format allows."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rustgpt_format as rf
from rustgpt_format.examples import BLOCK

ODD_PAIR = np.array([0x15AE43FD, 0x95AE43FD], dtype=np.uint32).view(np.float32)
SPECIAL_BITS = [
    0x00000000,  # 0.0
    0x80000000,  # -0.0
    0x00000001,  # smallest subnormal
    0x007FFFFF,  # largest subnormal
    0x00800000,  # smallest normal
    0x7F7FFFFF,  # largest finite
    0xFF7FFFFF,  # most negative finite
    0x3DCCCCCD,  # 0.1
    0x15AE43FD,  # the double-rounding pair
    0x95AE43FD,
]
SPECIALS = np.array(SPECIAL_BITS, dtype=np.uint32).view(np.float32)

float32s = st.one_of(
    st.floats(width=32, allow_nan=False, allow_infinity=False),
    st.sampled_from([float(x) for x in SPECIALS]),
)

# Words exercise JSON escaping, including text that looks like an array key.
words = st.one_of(
    st.text(
        st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=8
    ),
    st.sampled_from(['"data":[1]', "\\", '"', "é", "\u2028x"]),
).filter(lambda w: not any(c.isspace() for c in w) and w != rf.END_OF_SEQUENCE)


def arrays(shape: tuple[int, int]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float32, shape, elements=float32s)


@st.composite
def adam_states(draw: st.DrawFn, shape: tuple[int, int]) -> rf.AdamState:
    return rf.AdamState(
        beta1=draw(st.sampled_from([0.0, 0.9, 0.5])),
        beta2=draw(st.sampled_from([0.999, 0.0, 0.25])),
        epsilon=draw(st.sampled_from([1e-8, 1e-6, float(ODD_PAIR[0])])),
        timestep=draw(st.integers(0, 2**40)),
        m=draw(arrays(shape)),
        v=draw(arrays(shape)),
    )


@st.composite
def checkpoints(draw: st.DrawFn) -> rf.Checkpoint:
    d, h = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    L = draw(st.integers(1, 4))
    vocab = [*draw(st.lists(words, max_size=5, unique=True)), rf.END_OF_SEQUENCE]
    V = len(vocab)
    sizes = {"d": d, "h": h, "V": V, "L": L, "1": 1}
    middle = draw(
        st.one_of(
            st.just(list(BLOCK)),
            st.lists(st.sampled_from(["SelfAttention", "LayerNorm", "FeedForward"]), max_size=4),
        )
    )
    with_optimizer = draw(st.booleans())
    network = []
    for kind_name in ["Embeddings", *middle, "OutputProjection"]:
        kind = getattr(rf, kind_name)
        fields: dict[str, object] = {}
        if kind is rf.SelfAttention:
            fields["embedding_dim"] = d
        if kind is rf.LayerNorm:
            fields["epsilon"] = draw(st.sampled_from([1e-5, 1e-3]))
        for name, (rows, cols) in kind.SHAPES.items():
            fields[name] = draw(arrays((sizes[rows], sizes[cols])))
        for optimizer, parameter in kind.OPTIMIZERS.items():
            if with_optimizer:
                fields[optimizer] = draw(adam_states(fields[parameter].shape))  # type: ignore[attr-defined]
        network.append(kind(**fields))
    training = None
    if draw(st.booleans()):
        epochs = draw(st.integers(0, 3))
        training = rf.TrainingState(
            schedule=[rf.TrainingPhase(name="pretraining", epochs=3, learning_rate=0.0005)],
            epochs_completed=epochs,
            steps_completed=draw(st.integers(0, 100)),
            loss_history=draw(
                st.lists(st.floats(0, 10, allow_nan=False), min_size=epochs, max_size=epochs)
            ),
            seed=draw(st.none() | st.integers(0, 2**32)),
        )
    metadata = draw(
        st.none() | st.dictionaries(st.text(max_size=5), st.text(max_size=10), max_size=3)
    )
    return rf.Checkpoint(
        config=rf.ModelConfig(embedding_dim=d, hidden_dim=h, max_seq_len=L, vocab_size=V),
        vocab=rf.Vocab(words=tuple(vocab)),
        network=network,
        training=training,
        metadata=metadata,
    )
