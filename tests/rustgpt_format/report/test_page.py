"""The report page: its numbers against NumPy's, its structure, and hostile strings."""

from __future__ import annotations

import re

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format import Checkpoint, TrainingPhase, TrainingState
from rustgpt_format.codec import parse
from rustgpt_format.examples import BLOCK, random_checkpoint
from rustgpt_format.report import Subject, render
from rustgpt_format.validation import check_file
from tests.rustgpt_format.report.page_data import change_rows, elements, stat_rows

FIXTURES = rf.__file__.rsplit("/", 2)[0] + "/tests/fixtures"
STATS = ("mean", "std", "min", "max", "norm", "zeros")


def small(**options: object) -> Checkpoint:
    sizes: dict[str, object] = {
        "vocab_size": 11, "embedding_dim": 8, "hidden_dim": 16, "max_seq_len": 5, "middle": BLOCK,
    }  # fmt: skip
    return random_checkpoint(**{**sizes, **options})  # type: ignore[arg-type]


def trained(**options: object) -> Checkpoint:
    checkpoint = small(**options)
    checkpoint.training = TrainingState(
        schedule=[
            TrainingPhase(name="pretraining", epochs=4, learning_rate=0.0005),
            TrainingPhase(name="instruction_tuning", epochs=3, learning_rate=0.0001),
        ],
        epochs_completed=6,
        steps_completed=60,
        loss_history=[5.5, 3.25, 1.0, 0.5, 2.5, 0.75],
    )
    return checkpoint


def numpy_stats(array: np.ndarray) -> dict[str, float]:
    wide = array.astype(np.float64)
    return {
        "mean": float(np.mean(wide)),
        "std": float(np.std(wide)),
        "min": float(wide.min()),
        "max": float(wide.max()),
        "norm": float(np.linalg.norm(wide)),
        "zeros": float(np.count_nonzero(array == 0) / array.size),
    }


def assert_row(row: dict[str, str], expected: dict[str, float], where: str) -> None:
    for key in STATS:
        found = float(row[f"data-{key}"])
        assert found == pytest.approx(expected[key], rel=1e-9, abs=1e-12), f"{where} {key}"


def test_every_array_and_adam_state_against_numpy() -> None:
    checkpoint = trained()
    fresh = checkpoint.network[2].optimizer_gamma  # a state that never stepped
    assert fresh is not None
    fresh.timestep, fresh.m[:], fresh.v[:] = 0, 0, 0
    page = render(checkpoint)
    rows = stat_rows(page)
    steps = {attrs["data-path"]: attrs for _, attrs in elements(page) if "data-rms" in attrs}
    expected_keys = set()
    for index, layer in enumerate(checkpoint.network):
        states = {parameter: name for name, parameter in layer.OPTIMIZERS.items()}
        for name, array in layer.parameters().items():
            path = f"network[{index}].{name}"
            expected_keys.add((path, "parameter"))
            assert_row(rows[(path, "parameter")], numpy_stats(array), path)
            state = getattr(layer, states[name]) if name in states else None
            if state is None:
                continue
            expected_keys |= {(path, "m"), (path, "v"), (path, "step")}
            assert_row(rows[(path, "m")], numpy_stats(state.m), f"{path} m")
            assert_row(rows[(path, "v")], numpy_stats(state.v), f"{path} v")
            if state.timestep == 0:
                assert "data-mean" not in rows[(path, "step")]
                continue
            t = state.timestep
            m_hat = state.m.astype(np.float64) / (1 - state.beta1**t)
            v_hat = state.v.astype(np.float64) / (1 - state.beta2**t)
            step = m_hat / (np.sqrt(v_hat) + state.epsilon)
            assert_row(rows[(path, "step")], numpy_stats(step), f"{path} step")
            rms = float(steps[path]["data-rms"])
            assert rms == pytest.approx(np.sqrt(np.mean(step**2)), rel=1e-9), f"{path} rms"
    assert set(rows) == expected_keys
    assert steps["network[2].gamma"]["data-rms"] == "None"  # timestep 0: no step


def test_histogram_counts_add_up_to_the_array() -> None:
    checkpoint = small()
    rows = stat_rows(render(checkpoint))
    array = checkpoint.network[0].token_embeddings
    counts = [
        int(c) for c in rows[("network[0].token_embeddings", "parameter")]["data-counts"].split()
    ]
    wide = array.astype(np.float64)
    assert (
        counts == np.histogram(wide, bins=len(counts), range=(wide.min(), wide.max()))[0].tolist()
    )


def test_timestep_zero_says_no_step_yet() -> None:
    checkpoint = small()
    state = checkpoint.network[1].optimizer_w_q
    assert state is not None
    state.timestep = 0
    assert "none: timestep 0, no step yet" in render(checkpoint)


def test_inference_only() -> None:
    page = render(small(optimizer=False))
    assert not [key for key in stat_rows(page) if key[1] != "parameter"]
    assert "none: inference only" in page
    assert "No optimizer state: the checkpoint is inference-only." in page


def test_training_curve_and_phases() -> None:
    checkpoint = trained()
    page = render(checkpoint)
    losses = [float(attrs["data-loss"]) for tag, attrs in elements(page) if "data-loss" in attrs]
    assert checkpoint.training is not None
    assert losses == checkpoint.training.loss_history
    assert '<text class="phase"' in page and ">pretraining</text>" in page
    assert ">instruction_tuning</text>" in page
    assert "6 of 7 epochs, 60 optimizer steps" in page
    # The phase table: pretraining 4 of 4 epochs, first 5.5, last 0.5; tuning 2 of 3 so far.
    assert "<td>4 of 4</td><td>0.0005</td><td>5.5</td><td>0.5</td><td>0.5</td>" in page
    assert "<td>2 of 3</td><td>0.0001</td><td>2.5</td><td>0.75</td><td>0.75</td>" in page


def test_no_training_section_without_training() -> None:
    page = render(small())
    assert 'id="training"' not in page
    assert "<dt>Training</dt><dd>none</dd>" in page


def test_two_checkpoints_changes_against_numpy() -> None:
    before = small(seed=1)
    after = small(seed=1)
    after.network[1].w_q[0] += np.float32(0.5)  # one row of 8 changes
    after.network[3].w1[:] *= np.float32(1.25)
    before.network[3].b1[:] = 0  # a bias that starts at zero: no relative change
    after.network[3].b1[:] = 0.125
    rows = change_rows(render(after, before=before))
    for index, layer in enumerate(before.network):
        for name, b in layer.parameters().items():
            path = f"network[{index}].{name}"
            a = getattr(after.network[index], name).astype(np.float64)
            row = rows.pop(path)
            assert float(row["data-changed"]) == np.count_nonzero(a != b) / b.size
            difference = np.linalg.norm(a - b)
            assert float(row["data-difference"]) == pytest.approx(difference, rel=1e-12, abs=0)
            if not b.any():
                assert row["data-relative"] == "None"
                continue
            relative = difference / np.linalg.norm(b.astype(np.float64))
            assert float(row["data-relative"]) == pytest.approx(relative, rel=1e-12, abs=0)
    assert rows == {}
    relatives = {}
    for index, layer in enumerate(before.network):
        for name, b in layer.parameters().items():
            a = getattr(after.network[index], name).astype(np.float64)
            if b.any() and (a != b).any():
                relatives[f"network[{index}].{name}"] = np.linalg.norm(a - b) / np.linalg.norm(b)
    assert list(relatives) == ["network[1].w_q", "network[3].w1"]  # b1 was all zeros
    most, least = max(relatives, key=relatives.get), min(relatives, key=relatives.get)
    assert (
        "3 of 15 arrays changed; relative to its size, the most "
        f"<code>{most}</code> ({relatives[most]:.4g}), the least "
        f"<code>{least}</code> ({relatives[least]:.4g})."
    ) in render(after, before=before)
    assert (
        float(change_rows(render(after, before=before))["network[1].w_q"]["data-changed"]) == 1 / 8
    )


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        (small(), small(hidden_dim=12), "network[3].w1: shape (8, 16) vs (8, 12)"),
        (small(), small(middle=BLOCK * 2), "network: 6 layers vs 10"),
        (
            small(),
            small(middle=("FeedForward", *BLOCK[1:])),
            "network[1]: SelfAttention vs FeedForward",
        ),
        (small(), small(vocab_size=12), "network[0].token_embeddings: shape (11, 8) vs (12, 8)"),
    ],
)
def test_different_architectures_are_refused(
    before: Checkpoint, after: Checkpoint, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        render(after, before=before)
    assert str(caught.value) == f"different architectures: {message}"


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img/src=x/onerror=alert(1)>',
    "</style><style>body{display:none}",
    "\u202eevil",
    "tab\there",
    "&amp;",
    "https://example.com/x.png",
]


def test_strings_from_the_file_are_escaped() -> None:
    words = [w for w in HOSTILE if not re.search(r"\s", w)]  # a word holds no white space
    checkpoint = small(vocab_size=len(words) + 1)
    checkpoint.vocab = rf.Vocab(words=(*words, rf.END_OF_SEQUENCE))
    checkpoint.metadata = {f"key{text}": text for text in HOSTILE}
    page = render(Subject('<i>"name"</i>', checkpoint))
    for word in HOSTILE[:3]:
        assert word not in page
    tags = {tag for tag, _ in elements(page)}
    assert not tags & {"script", "img", "i", "iframe", "object", "link"}
    assert page.count("<style>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\u202eevil" in page and "\u202e" not in page
    assert "tab\\u0009here" in page
    assert "&amp;amp;" in page
    assert "<title>&lt;i&gt;&quot;name&quot;&lt;/i&gt; · checkpoint report</title>" in page


def test_page_is_self_contained_and_accessible() -> None:
    page = render(trained(), before=trained())
    assert page.startswith('<!doctype html>\n<html lang="en">')
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">" in page
    )
    assert not re.search(r"https?://|<script|<link|@import|url\(", page)
    assert page.count("<h1>") == 1
    svgs = re.findall(r"<svg[^>]*>(.{0,7})", page)
    assert len(svgs) > 10
    assert all(after == "<title>" for after in svgs)
    assert page.count("<svg") == len(re.findall(r'<svg [^>]*role="img"', page))
    assert "@media print" in page and "@media (max-width:40rem)" in page
    for _, attrs in elements(page):  # every table region can be scrolled with the keyboard
        if attrs.get("role") == "region":
            assert attrs.get("tabindex") == "0" and attrs.get("aria-label")


def invalid(name: str) -> Subject:
    path = rf.__file__.rsplit("/", 2)[0]
    file = __import__("pathlib").Path(path) / "tests" / "fixtures" / name
    problems, form = check_file(file)
    return Subject(name, problems=tuple(problems), form=form, document=parse(file.read_bytes()))


def test_invalid_file_lists_problems_and_shows_what_it_can() -> None:
    subject = invalid("reader-invalid/shape-disagrees-with-config.json")
    page = render(subject)
    assert subject.problems
    for problem in subject.problems:
        assert f"<code>{problem.path}</code>: " in page
        assert problem.message.replace("(", "(") in page.replace("&#x27;", "'")
    assert page.index('id="problems"') < page.index('id="glance"')
    rows = stat_rows(page)
    document = subject.document
    for index, layer in enumerate(document["network"]):
        for name, value in layer.items():
            if isinstance(value, dict) and "dim" in value:
                array = value["data"].reshape(value["dim"])
                assert_row(
                    rows[(f"network[{index}].{name}", "parameter")], numpy_stats(array), name
                )


@pytest.mark.parametrize(
    "name",
    [
        "schema-invalid/layer-type-unknown.json",
        "schema-invalid/data-string.json",
        "schema-invalid/dim-three-axes.json",
        "schema-invalid/adam-beta-one.json",
        "schema-invalid/vocab-words-not-strings.json",
        "reader-invalid/moment-shape-disagrees.json",
        "reader-invalid/loss-history-too-short.json",
    ],
)
def test_any_invalid_document_renders(name: str) -> None:
    page = render(invalid(name))
    assert 'id="problems"' in page and page.endswith("</html>\n")
