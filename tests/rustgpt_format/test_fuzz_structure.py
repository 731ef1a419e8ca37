"""Structured fuzzing: valid documents, mutated the ways real damage and attacks look.

Every case must come back as a checkpoint or as a CheckpointError naming a place —
never another exception, a warning other than FormatWarning, or a hang. A document
that is accepted must be JSON that orjson reads, and must survive a save/load cycle.

    python -m pytest -m slow tests/rustgpt_format/test_fuzz_structure.py   # 10,000 cases
"""

from __future__ import annotations

import copy
import signal
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

import rustgpt_format as rf
from rustgpt_format.examples import BLOCK, random_checkpoint, tiny_checkpoint
from rustgpt_format.validation import check_bytes

CASE_SECONDS = 2.0
"""The time bound of one case (parse, validate, and the save/load check when accepted)."""

HANG_SECONDS = 20
"""A case still running after this long is stopped by an alarm and reported as a hang."""


def _bases() -> list[bytes]:
    trained = tiny_checkpoint()
    trained.training = rf.TrainingState(
        schedule=[rf.TrainingPhase(name="pretraining", epochs=2, learning_rate=0.0005)],
        epochs_completed=1,
        loss_history=[4.25],
        seed=7,
    )
    trained.metadata = {"author": "fuzz", "note": 'a "data": [1] look-alike'}
    return [
        rf.dumps(tiny_checkpoint()),
        rf.dumps(trained, indent=2),
        rf.dumps(random_checkpoint(
            vocab_size=4, embedding_dim=3, hidden_dim=2, max_seq_len=2, middle=(), seed=3
        )),
        rf.dumps(random_checkpoint(
            vocab_size=5,
            embedding_dim=2,
            hidden_dim=3,
            max_seq_len=3,
            middle=("FeedForward", *BLOCK),
            optimizer=False,
            seed=4,
        )),
    ]


BASES = _bases()


class Raw:
    """Bytes written into the document as they are: tokens JSON does not have, deep nests."""

    def __init__(self, text: bytes) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Raw({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


class Pairs(list[tuple[str, Any]]):
    """An object written from key/value pairs, so a key can appear twice."""


def dumps(node: Any) -> bytes:
    """JSON text of a mutated tree (Raw and Pairs included)."""
    if isinstance(node, Raw):
        return node.text
    if isinstance(node, Pairs):
        members = (orjson.dumps(key) + b":" + dumps(value) for key, value in node)
        return b"{" + b",".join(members) + b"}"
    if isinstance(node, dict):
        return dumps(Pairs(node.items()))
    if isinstance(node, list):
        return b"[" + b",".join(dumps(item) for item in node) + b"]"
    if type(node) is int:
        return str(node).encode()  # orjson writes 64-bit integers only
    return orjson.dumps(node)


def containers(node: Any) -> Iterator[dict[str, Any] | list[Any]]:
    """Every object and array of the tree, the root first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)) and not isinstance(item, Pairs):
            yield item
            stack.extend(item.values() if isinstance(item, dict) else item)


def array_objects(node: Any) -> list[dict[str, Any]]:
    return [c for c in containers(node) if isinstance(c, dict) and "dim" in c and "data" in c]


# --- values a mutation puts in --------------------------------------------------------

NUMBER_TOKENS = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"nan",
    b"1e999",
    b"-1e400",
    b"1" + b"0" * 400,
    b"-" + b"9" * 30,
    b"3.4028236e38",
    b"-0",
    b"1e-400",
    b"0x10",
    b"+1",
    b"01",
    b".5",
    b"1.",
    b"1e",
    b"--1",
    b"18446744073709551616",
    b"9223372036854775808",
]
NEST_DEPTHS = [7, 15, 16, 17, 100, 1023, 1025, 5000, 50_000]
STRING_LENGTHS = [1000, 2**16, 2**16 + 1, 300_000]
KEYS = ["type", "data", "dim", "v", "format", "network", "w_q", "m", "", "__proto__", "x" * 70]
LAYER_KINDS = ["Embeddings", "SelfAttention", "FeedForward", "LayerNorm", "OutputProjection"]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from([*LAYER_KINDS, "rustgpt-checkpoint", "1.0", "1.1", "2.0", "</s>"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
)


def nest(depth: int, opener: bytes) -> Raw:
    """``depth`` arrays (or objects) inside one another."""
    if opener == b"[":
        return Raw(b"[" * depth + b"]" * depth)
    return Raw(b'{"a":' * depth + b"0" + b"}" * depth)


# --- mutations: each takes the draw function and the tree, and returns the tree -------

Mutation = Callable[[st.DrawFn, Any], Any]


def _pick_slot(draw: st.DrawFn, tree: Any) -> tuple[dict[str, Any] | list[Any], Any] | None:
    """A container and one of its keys or indexes, chosen among all of them."""
    found = [c for c in containers(tree) if c]
    if not found:
        return None
    container = found[draw(st.integers(0, len(found) - 1))]
    keys = list(container) if isinstance(container, dict) else list(range(len(container)))
    return container, keys[draw(st.integers(0, len(keys) - 1))]


def drop_key(draw: st.DrawFn, tree: Any) -> Any:
    objects = [c for c in containers(tree) if isinstance(c, dict) and c]
    if objects:
        target = objects[draw(st.integers(0, len(objects) - 1))]
        del target[draw(st.sampled_from(sorted(target)))]
    return tree


def duplicate_key(draw: st.DrawFn, tree: Any) -> Any:
    slot = _pick_slot(draw, tree)
    if slot is None or not isinstance(slot[0], dict):
        return tree
    container, key = slot
    value = container[key] if draw(st.booleans()) else draw(json_values)
    pairs = Pairs(container.items())
    pairs.insert(draw(st.integers(0, len(pairs))), (key, value))
    return _replace(tree, container, pairs)


def rename_key(draw: st.DrawFn, tree: Any) -> Any:
    slot = _pick_slot(draw, tree)
    if slot is None or not isinstance(slot[0], dict):
        return tree
    container, key = slot
    new = draw(st.one_of(st.sampled_from(KEYS), st.text(max_size=8), st.just(key.upper() + "_")))
    container[new] = container.pop(key)
    return tree


def change_type(draw: st.DrawFn, tree: Any) -> Any:
    slot = _pick_slot(draw, tree)
    if slot is None:
        return tree if draw(st.booleans()) else draw(json_values)  # the root itself
    container, key = slot
    container[key] = draw(json_values)
    return tree


def shuffle_layers(draw: st.DrawFn, tree: Any) -> Any:
    network = tree.get("network") if isinstance(tree, dict) else None
    if not isinstance(network, list) or not network:
        return tree
    i, j = draw(st.integers(0, len(network) - 1)), draw(st.integers(0, len(network) - 1))
    action = draw(st.sampled_from(["swap", "repeat", "delete", "retype"]))
    if action == "swap":
        network[i], network[j] = network[j], network[i]
    elif action == "repeat":
        network.insert(j, copy.deepcopy(network[i]))
    elif action == "delete":
        del network[i]
    elif isinstance(network[i], dict):
        network[i]["type"] = draw(st.sampled_from(LAYER_KINDS))
    return tree


def change_dim(draw: st.DrawFn, tree: Any) -> Any:
    arrays = array_objects(tree)
    if arrays:
        target = arrays[draw(st.integers(0, len(arrays) - 1))]
        rows, cols = (target["dim"] + [1, 1])[:2] if isinstance(target["dim"], list) else (1, 1)
        target["dim"] = draw(
            st.sampled_from(
                [
                    [1_000_000_000, 1_000_000_000],
                    [2**32, 2**32],
                    [2**63, 2],
                    [0, 0],
                    [-1, 3],
                    [3],
                    [3, 3, 3],
                    [1.5, 2],
                    ["3", 4],
                    None,
                    [cols, rows],
                    [rows + 1, cols] if isinstance(rows, int) else [2, 2],
                ]
            )
        )
    return tree


def change_data_length(draw: st.DrawFn, tree: Any) -> Any:
    arrays = [a for a in array_objects(tree) if isinstance(a["data"], list)]
    if arrays:
        target = arrays[draw(st.integers(0, len(arrays) - 1))]
        data = target["data"]
        if draw(st.booleans()) and data:
            del data[draw(st.integers(0, len(data) - 1)) :]
        else:
            data.extend([0.5] * draw(st.sampled_from([1, 2, 1000])))
    return tree


def inject_number(draw: st.DrawFn, tree: Any) -> Any:
    token = Raw(draw(st.sampled_from(NUMBER_TOKENS)))
    arrays = [a for a in array_objects(tree) if isinstance(a["data"], list) and a["data"]]
    if arrays and draw(st.booleans()):
        data = arrays[draw(st.integers(0, len(arrays) - 1))]["data"]
        data[draw(st.integers(0, len(data) - 1))] = token
        return tree
    numbers = [
        (c, k)
        for c in containers(tree)
        for k, v in (c.items() if isinstance(c, dict) else enumerate(c))
        if type(v) in (int, float)
    ]
    if numbers:
        container, key = numbers[draw(st.integers(0, len(numbers) - 1))]
        container[key] = token
    return tree


def deep_nesting(draw: st.DrawFn, tree: Any) -> Any:
    value = nest(draw(st.sampled_from(NEST_DEPTHS)), draw(st.sampled_from([b"[", b"{"])))
    slot = _pick_slot(draw, tree)
    if slot is None:
        return value
    slot[0][slot[1]] = value
    return tree


def long_string(draw: st.DrawFn, tree: Any) -> Any:
    text = draw(st.sampled_from(["x", "é", "\u2028", "\\"])) * draw(st.sampled_from(STRING_LENGTHS))
    slot = _pick_slot(draw, tree)
    if slot is None:
        return text
    container, key = slot
    if isinstance(container, dict) and draw(st.booleans()):
        container[text] = container.pop(key)
    else:
        container[key] = text
    return tree


def odd_text(draw: st.DrawFn, tree: Any) -> Any:
    """Strings JSON allows but a reader may mishandle, and some it does not allow."""
    token = Raw(
        draw(
            st.sampled_from(
                [b'"\\ud800"', b'"\\udc00x"', b'"\xff\xfe"', b'"\\u0000"', b'"a\nb"', b'"\\x41"']
            )
        )
    )
    slot = _pick_slot(draw, tree)
    if slot is not None:
        slot[0][slot[1]] = token
    return tree


def change_version(draw: st.DrawFn, tree: Any) -> Any:
    if isinstance(tree, dict):
        tree["format_version"] = draw(
            st.sampled_from(["1.1", "1.99", "2.0", "0.9", "1.00", "1.0.0", " 1.0", "1.999999999"])
        )
        if draw(st.booleans()):
            tree[draw(st.sampled_from(KEYS))] = draw(json_values)  # a key a newer minor may have
    return tree


def _replace(tree: Any, old: Any, new: Any) -> Any:
    if tree is old:
        return new
    for container in containers(tree):
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, value in items:
            if value is old:
                container[key] = new
                return tree
    return tree


MUTATIONS: list[Mutation] = [
    drop_key,
    duplicate_key,
    rename_key,
    change_type,
    shuffle_layers,
    change_dim,
    change_data_length,
    inject_number,
    deep_nesting,
    long_string,
    odd_text,
    change_version,
]


@st.composite
def mutated_documents(draw: st.DrawFn) -> tuple[tuple[str, ...], bytes]:
    tree = orjson.loads(draw(st.sampled_from(BASES)))
    applied = []
    for _ in range(draw(st.integers(1, 3))):
        mutation = draw(st.sampled_from(MUTATIONS))
        applied.append(mutation.__name__)
        tree = mutation(draw, tree)
    return tuple(applied), dumps(tree)


# --- the oracle -----------------------------------------------------------------------


@dataclass
class FuzzReport:
    """What a run did: cases, how they ended, the slowest case, and what escaped."""

    cases: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    mutations: Counter[str] = field(default_factory=Counter)
    slowest: float = 0.0
    escaped: list[str] = field(default_factory=list)


class HangError(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise HangError(f"still running after {HANG_SECONDS} s")


def check_one(
    raw: bytes, report: FuzzReport, read: Callable[[bytes], rf.Checkpoint], *, text: bool = True
) -> None:
    """Read ``raw`` and hold the outcome to the contract; record it in ``report``.

    ``text`` says ``raw`` is meant as JSON (not gzip or safetensors): then an accepted
    input must be JSON, and ``rustgpt-format validate``'s checker must not raise on it.
    """
    start = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.simplefilter("ignore", rf.FormatWarning)
            try:
                checkpoint = read(raw)
            except rf.CheckpointError as error:
                assert error.problems and error.message, "an error without a message"
                assert error.path == error.problems[0].path
                assert str(error) == (f"{error.path}: {error.message}" if error.path else error.message)
                report.outcomes["refused"] += 1
            else:
                if text:
                    orjson.loads(raw)  # accepted only what is JSON
                assert rf.loads(rf.dumps(checkpoint)) == checkpoint
                report.outcomes["accepted"] += 1
            if text:
                assert isinstance(check_bytes(raw), list)  # what `rustgpt-format validate` does
    except Exception as error:  # anything else is an escape, to be reported with its input
        report.escaped.append(f"{type(error).__name__}: {str(error)[:200]} <- {raw[:300]!r}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    report.slowest = max(report.slowest, elapsed)
    report.cases += 1


def run_structured(cases: int, seed: int = 0) -> FuzzReport:
    """Run ``cases`` mutated documents (seeded) through ``Checkpoint.from_json``."""
    report = FuzzReport()

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(mutated_documents())
    def case(mutated: tuple[tuple[str, ...], bytes]) -> None:
        applied, raw = mutated
        report.mutations.update(applied)
        check_one(raw, report, rf.loads)

    case()
    return report


def _assert_clean(report: FuzzReport, cases: int) -> None:
    assert report.escaped == []
    assert report.cases >= cases
    assert report.slowest < CASE_SECONDS
    assert set(report.mutations) == {m.__name__ for m in MUTATIONS}
    assert report.outcomes["refused"] > 0 and report.outcomes["accepted"] > 0


def test_mutated_documents_give_a_checkpoint_or_a_checkpoint_error() -> None:
    _assert_clean(run_structured(300, seed=1), 300)


@pytest.mark.slow
def test_ten_thousand_mutated_documents() -> None:
    _assert_clean(run_structured(10_000, seed=2), 10_000)


def test_the_oracle_catches_an_escape() -> None:
    def crashing(raw: bytes) -> rf.Checkpoint:
        raise KeyError("network")

    report = FuzzReport()
    check_one(b"{}", report, crashing)
    assert report.escaped == ["KeyError: 'network' <- b'{}'"]


@pytest.mark.parametrize(
    ("mutation", "path", "message"),
    [
        (
            lambda d: d["network"][1].update(
                w_q={"v": 1, "dim": [10**9, 10**9], "data": [1, 2, 3]}
            ),
            "network[1].w_q.data",
            "expected 1000000000000000000 numbers (dim 1000000000x1000000000), found 3",
        ),
        (
            lambda d: d.update(metadata={"a": nest(1000, b"[")}),
            "metadata.a[0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
            "expected nesting at most 16 deep (Limits.max_depth; the format needs 6), found 1002;"
            " to read it anyway, pass limits=Limits(...) with a higher bound",
        ),
        (
            lambda d: d["vocab"]["words"].insert(0, "w" * 70_000),
            "vocab.words[0]",
            "expected a string of at most 65536 characters (Limits.max_string_chars), found 70000;"
            " to read it anyway, pass limits=Limits(...) with a higher bound",
        ),
    ],
    ids=["dim claim", "deep nesting", "long word"],
)
def test_mutations_of_record(mutation: Callable[[Any], None], path: str, message: str) -> None:
    """Inputs the fuzzer found or aims at, pinned with their exact error."""
    tree = orjson.loads(BASES[0])
    mutation(tree)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(dumps(tree))
    assert (caught.value.path, caught.value.message) == (path, message)
