import math

import numpy as np
import pytest

from rustgpt_format import END_OF_SEQUENCE, OutputProjection
from rustgpt_model import LLM, build_vocab, generate
from rustgpt_model.generate import _sample

WORDS = build_vocab(["a b c d e f g h </s>"])


def model(max_seq_len: int = 8, seed: int = 1) -> LLM:
    return LLM.new(
        WORDS, embedding_dim=8, hidden_dim=16, max_seq_len=max_seq_len, num_blocks=1, seed=seed
    )


def test_greedy_is_the_argmax_chain() -> None:
    llm = model()
    produced = generate(llm.checkpoint, [2, 3])
    tokens = [2, 3]
    for token in produced:
        assert token == int(np.argmax(llm.logits(tokens)[-1]))
        tokens.append(token)


@pytest.mark.parametrize(
    ("prompt", "most"), [([2], 7), ([2, 3, 4], 5), ([2] * 7, 1), ([2] * 8, 0), ([], 0)]
)
def test_prompt_and_continuation_stay_within_max_seq_len(prompt: list[int], most: int) -> None:
    for seed in range(4):
        produced = generate(model(seed=seed).checkpoint, prompt)
        end = WORDS.index(END_OF_SEQUENCE)
        assert len(produced) <= most
        assert len(produced) == most or produced[-1] == end  # stopped by L or by </s>
        assert end not in produced[:-1]


def test_sampling_is_seeded() -> None:
    ckpt = model().checkpoint
    runs = [generate(ckpt, [2], temperature=5.0, seed=seed) for seed in (7, 7, 8)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize("options", [{"top_k": 1}, {"top_p": 1e-9}, {"temperature": 1e-4}])
def test_sampling_that_leaves_one_choice_is_greedy(options: dict[str, float]) -> None:
    ckpt = model().checkpoint
    assert generate(ckpt, [2], seed=0, **options) == generate(ckpt, [2])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": 0.0}, "temperature: expected a number > 0, found 0.0"),
        ({"top_k": 0}, "top_k: expected an integer >= 1, found 0"),
        ({"top_p": 1.5}, "top_p: expected a number in (0, 1], found 1.5"),
        ({"top_p": 0.0}, "top_p: expected a number in (0, 1], found 0.0"),
    ],
)
def test_bad_sampling_options(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        generate(model().checkpoint, [2], **options)
    assert str(caught.value) == message


def chi_square_p_value(observed: np.ndarray, probabilities: np.ndarray) -> float:
    """P(χ² ≥ statistic) for an even number of degrees of freedom 2m (exact: Poisson tail)."""
    expected = probabilities * observed.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    m, half = (len(observed) - 1) // 2, statistic / 2
    assert (len(observed) - 1) % 2 == 0
    return math.exp(-half) * sum(half**i / math.factorial(i) for i in range(m))


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()  # type: ignore[no-any-return]


def draws_of(options: dict[str, float], count: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Tokens drawn after a one-token prompt from logits linspace(-1, 1), and those logits."""
    ckpt = model(max_seq_len=2).checkpoint  # one token after a one-token prompt
    output = ckpt.network[-1]
    assert isinstance(output, OutputProjection)
    V = len(WORDS)  # 13: 12 degrees of freedom
    output.w_out[:] = 0
    output.b_out[0] = np.linspace(-1.0, 1.0, V, dtype=np.float32)  # the logits, exactly
    draws = [generate(ckpt, [4], seed=seed, **options)[0] for seed in range(count)]  # type: ignore[arg-type]
    observed = np.bincount(draws, minlength=V).astype(np.float64)
    return observed, output.b_out[0].astype(np.float64)


@pytest.mark.parametrize(
    ("options", "temperature"),
    [
        ({"temperature": 0.5}, 0.5),
        ({"temperature": 1.0}, 1.0),
        ({"temperature": 2.0}, 2.0),
        ({"top_k": 13}, 1.0),  # sampling without a temperature samples at 1
        ({"top_p": 1.0}, 1.0),
    ],
)
def test_sampling_draws_from_softmax_of_logits_over_the_temperature(
    options: dict[str, float], temperature: float
) -> None:
    """Over many seeded draws the frequencies fit softmax(logits / T), and no other T."""
    observed, logits = draws_of(options)
    assert chi_square_p_value(observed, softmax(logits / temperature)) > 1e-4
    for other in {0.5, 1.0, 2.0} - {temperature}:  # the test can tell temperatures apart
        assert chi_square_p_value(observed, softmax(logits / other)) < 1e-9


@pytest.mark.parametrize(("top_p", "kept"), [(0.2, 2), (0.5, 4), (0.9, 10)])
def test_top_p_draws_from_the_smallest_set_that_reaches_p(top_p: float, kept: int) -> None:
    observed, logits = draws_of({"top_p": top_p}, count=1000)
    probabilities = np.sort(softmax(logits))[::-1]
    assert np.cumsum(probabilities)[kept - 2] < top_p <= np.cumsum(probabilities)[kept - 1]
    assert np.flatnonzero(observed).tolist() == list(range(13 - kept, 13))  # the most likely


def test_top_k_keeps_the_first_of_equal_logits() -> None:
    """Ties are cut in index order (a stable sort): of equal logits, the lowest ids."""
    logits = np.random.default_rng(0).integers(0, 3, 100).astype(np.float32)  # many ties
    first = np.flatnonzero(logits == logits.max())[:3].tolist()
    draws = {_sample(logits, np.random.default_rng(seed), 1.0, 3, None) for seed in range(200)}
    assert draws == set(first)
