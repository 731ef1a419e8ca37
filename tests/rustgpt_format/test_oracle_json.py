"""RustGPT's own JSON against the real RustGPT (the ``oracle`` fixture, built from ../shared).

- Files RustGPT wrote (pretty and compact, untrained and trained) load with every float32
  bit for bit as RustGPT holds it: what its ``LLM::load`` reads, as it writes it again
  (``oracle resave``), parsed here independently of the package (Python's ``json``, each
  number's text rounded once to float32).
- Files we write in its dialect are read by its ``LLM::load`` to bit-identical logits,
  and saved again by it to our bytes, but for two things RustGPT does differently:
  the order of the vocabulary's ``encode``/``decode`` maps (Rust HashMaps, a random order
  every run; normalised here) and the spelling of some numbers (Ryū, serde_json 1.0.87:
  ``1e13`` where we write ``1e+13``, and ``7.038531e-26`` where we write the longer text
  of float32 0x15AE43FD; docs/format.md §9). Both readers read both spellings alike.
"""

from __future__ import annotations

import json
import re
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_model import LLM, build_vocab
from tests.oracle import Oracle, oracle  # noqa: F401

SEED = "11"
PROMPT = "User: How do mountains form?"
CACHES = {  # RustGPT's forward caches, per layer struct (its source, ed58706)
    "Embeddings": {"cached_input"},
    "SelfAttention": {"cached_input"},
    "FeedForward": {"input", "hidden_pre_activation", "hidden_post_activation"},
    "LayerNorm": {"cached_input", "cached_mean", "cached_std"},
    "OutputProjection": {"cached_input"},
}
ODD_LONG, ODD_SHORT = b"7.038530691851209e-26", b"7.038531e-26"  # float32 0x15AE43FD


def load(path: Path) -> rf.Checkpoint:
    """A RustGPT-dialect file, without its migration warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        return rf.load(path)


def save_rustgpt(checkpoint: rf.Checkpoint, path: Path, indent: int | None) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        rf.save(checkpoint, path, dialect="rustgpt", indent=indent)
    return path.read_bytes()


# --- an independent reading ---------------------------------------------------------------


def float32_of(texts: list[str]) -> np.ndarray:
    """Each decimal text rounded once to the nearest float32 (ties to even).

    Rounding through float64 first errs only where the float64 lands exactly halfway
    between two float32s; those few are decided from the exact decimal.
    """
    wide = np.array([float(text) for text in texts], np.float64)
    narrow = wide.astype(np.float32)
    back = narrow.astype(np.float64)
    toward = np.where(wide > back, np.inf, -np.inf).astype(np.float32)
    with np.errstate(over="ignore"):  # the largest float32's neighbour upwards is inf
        other = np.nextafter(narrow, toward)
    halfway = (wide != back) & (wide == (back + other.astype(np.float64)) / 2)
    for index in np.flatnonzero(halfway):
        exact, middle = Fraction(texts[index]), Fraction(float(wide[index]))
        if exact != middle:
            low, high = sorted((narrow[index], other[index]))
            narrow[index] = high if exact > middle else low
    return narrow


def reference(path: Path) -> Any:
    """The document at ``path`` by Python's json, numbers kept as their texts."""
    return json.loads(path.read_text(encoding="utf-8"), parse_float=str, parse_int=str)


def is_array(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"v", "dim", "data"}


def same_bits(ours: np.ndarray, theirs: dict[str, Any], where: str) -> int:
    """Assert ``ours`` is RustGPT's array, float for float; the number of floats."""
    assert theirs["v"] == "1", where
    assert list(ours.shape) == [int(n) for n in theirs["dim"]], where
    expected = float32_of(theirs["data"])
    assert ours.dtype == np.float32, where
    different = np.flatnonzero(ours.reshape(-1).view(np.uint32) != expected.view(np.uint32))
    assert not different.size, f"{where}.data[{different[0]}]: {ours.flat[different[0]]!r}"
    return int(expected.size)


def same_scalar(ours: float, text: str, where: str) -> int:
    assert np.float32(ours).view(np.uint32) == float32_of([text]).view(np.uint32)[0], where
    assert float(np.float32(ours)) == ours, f"{where}: {ours!r} is not a float32"
    return 1


def count_numbers(value: Any, skip: frozenset[str] = frozenset()) -> int:
    """Numbers in the float positions of a decoded document (array data and scalars)."""
    if is_array(value):
        return len(value["data"])
    if isinstance(value, dict):
        return sum(count_numbers(item) for key, item in value.items() if key not in skip)
    if isinstance(value, list):
        return sum(count_numbers(item) for item in value)
    return 1 if isinstance(value, str) and not value.isdigit() else 0


def compare_every_float(checkpoint: rf.Checkpoint, document: Any) -> int:
    """Assert every float32 outside the caches is the checkpoint's; how many there are."""
    assert list(checkpoint.vocab.words) == document["vocab"]["words"]
    checked = total = 0
    assert len(checkpoint.network) == len(document["network"])
    for index, (layer, item) in enumerate(
        zip(checkpoint.network, document["network"], strict=True)
    ):
        ((tag, body),) = item.items()
        assert layer.type == tag
        total += count_numbers(body, frozenset(CACHES[tag]))
        for key, value in body.items():
            where = f"network[{index}].{tag}.{key}"
            if key in CACHES[tag]:
                continue  # transient: the reader drops them (docs/format.md §9)
            if is_array(value):
                checked += same_bits(getattr(layer, key), value, where)
            elif key.startswith("optimizer") or key.endswith("_optimizer"):
                state = getattr(layer, key)
                assert state.timestep == int(value["timestep"]), where
                for name in ("beta1", "beta2", "epsilon"):
                    checked += same_scalar(getattr(state, name), value[name], f"{where}.{name}")
                checked += same_bits(state.m, value["m"], f"{where}.m")
                checked += same_bits(state.v, value["v"], f"{where}.v")
            elif key == "epsilon":
                checked += same_scalar(layer.epsilon, value, where)  # type: ignore[union-attr]
            elif key == "embedding_dim":
                assert layer.embedding_dim == int(value), where  # type: ignore[union-attr]
            else:
                pytest.fail(f"{where}: a key this test does not know")
    assert checked == total
    return checked


# --- the vocabulary's maps in id order ------------------------------------------------------


def _object_end(text: str, start: int) -> int:
    """The index just past the JSON object that opens at ``text[start]``."""
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return index + 1
    raise AssertionError("unterminated object")


def _entries(body: str) -> list[str]:
    """The texts of an object body's entries, each with its leading white space."""
    entries, start, in_string, escaped = [], 0, False, False
    for index, char in enumerate(body):
        if in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            in_string = True
        elif char == ",":
            entries.append(body[start:index])
            start = index + 1
    entries.append(body[start:])
    return entries


def maps_in_id_order(data: bytes) -> bytes:
    """``data`` with the entries of vocab.encode and vocab.decode sorted by token id.

    Each entry keeps its exact text (and white space), so only the order changes.
    """
    text = data.decode("utf-8")
    for key, id_of in (
        ('"encode":', lambda pair: int(pair[1])),
        ('"decode":', lambda pair: int(pair[0])),
    ):
        start = text.index("{", text.index(key))
        end = _object_end(text, start)
        body = text[start + 1 : end - 1]
        closing = body[len(body.rstrip()) :]  # the white space before '}'
        entries = _entries(body[: len(body) - len(closing)])

        def entry_id(entry: str, id_of: Any = id_of) -> int:
            return id_of(next(iter(json.loads("{" + entry + "}").items())))  # type: ignore[no-any-return]

        text = (
            text[: start + 1] + ",".join(sorted(entries, key=entry_id)) + closing + text[end - 1 :]
        )
    return text.encode("utf-8")


def as_rustgpt_spells(data: bytes) -> bytes:
    """Our text with numbers spelled as RustGPT's serde_json 1.0.87 (Ryū) spells them."""
    data = re.sub(rb"(?<=[0-9])e\+(?=[0-9])", b"e", data)  # 1e+13 -> 1e13
    return data.replace(ODD_LONG, ODD_SHORT)  # its shortest text: Ryū does not lengthen it


# --- files RustGPT wrote -------------------------------------------------------------


RUSTGPT_FILES = {
    "untrained-pretty": (),
    "untrained-compact": ("--compact",),
    "trained-pretty": ("--epochs", "1"),
    "trained-compact": ("--epochs", "1", "--compact"),
}


@pytest.fixture(scope="session")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("oracle-json")


@pytest.fixture(scope="session", params=list(RUSTGPT_FILES))
def rustgpt_file(
    request: pytest.FixtureRequest,
    oracle: Oracle,  # noqa: F811
    folder: Path,
) -> tuple[str, Path, Path]:
    """(name, a file RustGPT wrote, what RustGPT writes after reading it in the same style)."""
    name: str = request.param
    options = RUSTGPT_FILES[name]
    original, again = folder / f"{name}.json", folder / f"{name}-resaved.json"
    oracle.run("new", original, SEED, *options)
    oracle.run("resave", original, again, *[o for o in options if o == "--compact"])
    return name, original, again


def test_reads_every_float32_as_rustgpt_holds_it(rustgpt_file: tuple[str, Path, Path]) -> None:
    _, original, again = rustgpt_file
    checked = compare_every_float(load(original), reference(again))
    assert checked > 1_400_000  # 3 blocks of d = 128, 533 words, with Adam's m and v


def test_rustgpt_writes_what_it_read(rustgpt_file: tuple[str, Path, Path]) -> None:
    """Its own file read and written again: the same bytes, the maps' order aside."""
    _, original, again = rustgpt_file
    assert maps_in_id_order(again.read_bytes()) == maps_in_id_order(original.read_bytes())


def test_the_files_are_what_they_claim(rustgpt_file: tuple[str, Path, Path]) -> None:
    """Trained files have full caches and moving Adam states; untrained ones neither."""
    name, original, _ = rustgpt_file
    document = reference(original)
    trained = name.startswith("trained")
    assert (b"\n" in original.read_bytes()[:3]) == name.endswith("pretty")
    for index, item in enumerate(document["network"]):
        ((tag, body),) = item.items()
        for cache in CACHES[tag]:
            assert (body[cache] is not None) == trained, f"network[{index}].{tag}.{cache}"
        states = [v for k, v in body.items() if isinstance(v, dict) and "timestep" in v]
        assert states
        for state in states:
            assert (int(state["timestep"]) > 0) == trained
            assert any(float(m) != 0 for m in state["m"]["data"]) == trained


# --- files we write ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def rustgpt_trained(oracle: Oracle, folder: Path) -> Path:  # noqa: F811
    path = folder / "source.json"
    oracle.run("new", path, SEED, "--epochs", "1", "--compact")
    return path


@pytest.mark.parametrize("indent", [None, 2])
def test_rustgpt_reads_ours_to_the_same_logits(
    oracle: Oracle,  # noqa: F811
    rustgpt_trained: Path,
    folder: Path,
    indent: int | None,
) -> None:
    """RustGPT's trained model through our load and save: RustGPT runs it to the bit."""
    ours = folder / f"ours-{indent}.json"
    save_rustgpt(load(rustgpt_trained), ours, indent)
    theirs = json.loads(oracle.run("logits", rustgpt_trained, PROMPT, "--all", "--json"))
    again = json.loads(oracle.run("logits", ours, PROMPT, "--all", "--json"))
    assert again == theirs  # tokens, every logit's bits, the greedy continuation


@pytest.mark.parametrize("indent", [None, 2])
def test_rustgpt_saves_our_bytes_again(
    oracle: Oracle,  # noqa: F811
    rustgpt_trained: Path,
    folder: Path,
    indent: int | None,
) -> None:
    ours = folder / f"ours-again-{indent}.json"
    written = save_rustgpt(load(rustgpt_trained), ours, indent)
    again = folder / f"ours-again-{indent}-resaved.json"
    oracle.run("resave", ours, again, *(["--compact"] if indent is None else []))
    assert maps_in_id_order(written) == written  # ours are in id order already
    assert b"e+" not in written and ODD_LONG not in written  # nothing to spell otherwise
    assert maps_in_id_order(again.read_bytes()) == written


ODD_WORDS = ["é", "naïve", "日本", "😀", "\x01", "\x7f", "a\\b", 'q"q', "\ufeff", "{", "}"]
EXTREMES = [1e13, 1e12, 1.5e13, -7.0262058e13, 3.4028235e38, 1e16, 1e-7, 1.234e-6, 1e-45, -0.0]


@pytest.fixture(scope="session")
def extreme_checkpoint() -> rf.Checkpoint:
    """A model made here: odd words, extreme floats, and random bit patterns as moments."""
    llm = LLM.new(
        build_vocab(["hello world </s>"]) + ODD_WORDS,
        embedding_dim=32,
        hidden_dim=64,
        max_seq_len=80,
        num_blocks=1,
        seed=3,
    )
    rng = np.random.default_rng(1)
    for layer in llm.checkpoint.network:
        for state in layer.optimizers().values():
            assert state is not None
            for moment in (state.m, state.v):
                bits = rng.integers(0, 2**32, moment.size, dtype=np.uint64).astype(np.uint32)
                values = bits.view(np.float32)
                values[~np.isfinite(values)] = 1.0
                moment[...] = values.reshape(moment.shape)
    output = llm.checkpoint.network[-1]
    assert isinstance(output, rf.OutputProjection)
    output.w_out.flat[: len(EXTREMES)] = EXTREMES
    return llm.checkpoint


@pytest.fixture(scope="session")
def odd_checkpoint(extreme_checkpoint: rf.Checkpoint) -> rf.Checkpoint:
    """The same with ±0x15AE43FD, whose shortest text a float64 reader gets one ulp off."""
    odd = extreme_checkpoint.model_copy(deep=True)
    output = odd.network[-1]
    assert isinstance(output, rf.OutputProjection)
    output.w_out.flat[-2:] = np.array([0x15AE43FD, 0x95AE43FD], np.uint32).view(np.float32)
    return odd


def resave(oracle: Oracle, checkpoint: rf.Checkpoint, path: Path, indent: int | None) -> bytes:  # noqa: F811
    """Save ``checkpoint`` at ``path`` in RustGPT's dialect; RustGPT's bytes saving it again."""
    save_rustgpt(checkpoint, path, indent)
    again = path.with_suffix(".resaved.json")
    oracle.run("resave", path, again, *(["--compact"] if indent is None else []))
    return again.read_bytes()


@pytest.mark.parametrize("indent", [None, 2])
def test_rustgpt_saves_extreme_values_as_documented(
    oracle: Oracle,  # noqa: F811
    extreme_checkpoint: rf.Checkpoint,
    folder: Path,
    indent: int | None,
) -> None:
    """Every float32 and every word survives RustGPT; only positive exponents differ."""
    ours = folder / f"extreme-{indent}.json"
    theirs = resave(oracle, extreme_checkpoint, ours, indent)
    written = ours.read_bytes()
    assert written.count(b"e+") > 500  # random moments: many positive exponents
    assert maps_in_id_order(theirs) != written  # the spelling differs...
    assert maps_in_id_order(theirs) == as_rustgpt_spells(written)  # ...and only that
    # RustGPT wrote back our float32s, and our reader reads its spellings to them
    again = ours.with_suffix(".resaved.json")
    assert compare_every_float(load(ours), reference(again)) > 30_000  # all but caches
    assert compare_every_float(load(again), reference(again)) > 30_000


@pytest.mark.parametrize("indent", [None, 2])
def test_rustgpt_saves_0x15ae43fd_by_its_shortest_text(
    oracle: Oracle,  # noqa: F811
    odd_checkpoint: rf.Checkpoint,
    folder: Path,
    indent: int | None,
) -> None:
    """We write the long text (contract §2), RustGPT the shortest; each reads both alike."""
    ours = folder / f"odd-{indent}.json"
    theirs = resave(oracle, odd_checkpoint, ours, indent)
    written = ours.read_bytes()
    assert written.count(ODD_LONG) == 2 and theirs.count(ODD_SHORT) == 2
    assert maps_in_id_order(theirs) == as_rustgpt_spells(written)
    again = ours.with_suffix(".resaved.json")
    assert compare_every_float(load(ours), reference(again)) > 30_000  # all but caches
    assert compare_every_float(load(again), reference(again)) > 30_000


def test_rustgpt_reads_its_shortest_text_of_0x15ae43fd_right(
    oracle: Oracle,  # noqa: F811
    odd_checkpoint: rf.Checkpoint,
    folder: Path,
) -> None:
    """RustGPT's serde_json (no float_roundtrip: one division by a table power of ten)
    reads 7.038531e-26 as 0x15AE43FD, the float32 it wrote, as our reader does, where a
    correctly rounding float64 reader then float32 makes it 0x15AE43FE."""
    once = resave(oracle, odd_checkpoint, folder / "odd-twice.json", None)
    twice = folder / "odd-twice.resaved.resaved.json"
    oracle.run("resave", folder / "odd-twice.resaved.json", twice, "--compact")
    assert once.count(ODD_SHORT) == 2
    assert maps_in_id_order(twice.read_bytes()) == maps_in_id_order(once)
    assert np.float32(float(ODD_SHORT)).view(np.uint32) == 0x15AE43FE


def test_reads_a_rustgpt_word_with_a_unit_separator(oracle: Oracle, folder: Path) -> None:  # noqa: F811
    data = folder / "unit-separator-data"
    data.mkdir()
    (data / "pretraining_data.json").write_text(json.dumps(["sun\x1fmoon rises </s>"]))
    (data / "chat_training_data.json").write_text(json.dumps(["User: hi </s>"]))
    path = folder / "unit-separator.json"
    oracle.run("new", path, SEED, "--data", data, "--compact")
    words = json.loads(path.read_text())["vocab"]["words"]
    assert "sun\x1fmoon" in words
    assert list(load(path).vocab.words) == words
