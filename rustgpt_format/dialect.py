"""RustGPT's own JSON (version 0, contract §9): reading it as format 1.0, and writing it.

What ``serde_json`` writes for RustGPT's ``LLM { vocab, network: Vec<LayerEnum> }``
differs from format 1.0 in four ways: layers are externally tagged
(``{"SelfAttention": {...}}``), layers carry forward caches, the vocab carries its
``encode`` and ``decode`` maps beside ``words``, and there is no ``config``.

Reading turns such a document into a 1.0 document (the migration step from version 0)
and remembers where each part came from, so that a problem found later in the 1.0
document is reported at its path in the old one (``network[2].SelfAttention.w_q``).
Writing emits exactly the keys of RustGPT's structs, every cache ``null``, so that
RustGPT's ``LLM::load`` reads the file back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from rustgpt_format.codec import wire_document
from rustgpt_format.errors import CheckpointError, Problem, warn
from rustgpt_format.float32 import describe
from rustgpt_format.models import LAYER_KINDS, AdamState, Checkpoint
from rustgpt_format.models.layers import DIM_NAMES
from rustgpt_format.versions import FORMAT, FORMAT_VERSION

RUSTGPT_HIDDEN_DIM = 256
"""RustGPT's ``HIDDEN_DIM``: the hidden_dim of a network that has no FeedForward layer."""

_VOCAB_KEYS = ("encode", "decode", "words")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,17}")  # used with fullmatch: no "1\n"
_LAYER_PATH = re.compile(r"^network\[(\d+)\](.*)$")


def map_key(prefix: str, key: str) -> str:
    """The path of a map entry: ``vocab.encode["cat"]`` (JSON-quoted, so any word fits)."""
    return f"{prefix}[{orjson.dumps(key).decode()}]"


# --- reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class Upgraded:
    """A document moved one version up, and how to report its problems in the old one."""

    document: dict[str, Any]
    old_problem: Callable[[Problem], Problem]


def from_rustgpt(document: dict[str, Any]) -> Upgraded:
    """The format-1.0 document of a RustGPT (version 0) document.

    Dialect problems (a layer that is not externally tagged, a cache that is not an
    array, maps that disagree with ``words``) raise :class:`CheckpointError` at once;
    the rest is left to the 1.0 validator, whose problems ``old_problem`` maps back.

    >>> words = ["hi", "</s>"]
    >>> old = {"vocab": {"encode": {"hi": 0, "</s>": 1}, "decode": {"0": "hi", "1": "</s>"},
    ...                  "words": words}, "network": []}
    >>> sorted(from_rustgpt(old).document)
    ['config', 'format', 'format_version', 'network', 'vocab']
    """
    problems: list[Problem] = []
    network = document["network"]
    tags: list[str | None] = []
    layers: Any = network
    if isinstance(network, list):
        layers = []
        for index, item in enumerate(network):
            tag, layer = _untag(item, f"network[{index}]", problems)
            tags.append(tag)
            layers.append(layer)
    words = _check_vocab(document["vocab"], problems)
    if problems:
        raise CheckpointError(problems[0].message, path=problems[0].path, problems=problems)
    config, sources = _infer_config(layers, words)
    rest = {key: value for key, value in document.items() if key not in ("vocab", "network")}
    vocab = {"words": words} if words is not None else document["vocab"]
    upgraded = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config,
        "vocab": vocab,
        "network": layers,
        **rest,
    }

    def old_problem(problem: Problem) -> Problem:
        return Problem(
            _old_path(problem.path, tags, sources),
            _old_message(problem.message, sources),
            problem.rule,
        )

    return Upgraded(upgraded, old_problem)


def _untag(item: object, where: str, problems: list[Problem]) -> tuple[str | None, Any]:
    """``{"SelfAttention": {...}}`` -> ``("SelfAttention", {"type": "SelfAttention", ...})``."""
    kinds = ", ".join(LAYER_KINDS)
    if not isinstance(item, dict) or len(item) != 1 or next(iter(item)) not in LAYER_KINDS:
        found = (
            f"an object with keys {', '.join(map(repr, item))}"
            if isinstance(item, dict) and item
            else describe(item)
        )
        problems.append(
            Problem(where, f"expected a layer tagged by its kind ({kinds}), found {found}")
        )
        return None, item
    tag, body = next(iter(item.items()))
    if not isinstance(body, dict):
        problems.append(Problem(f"{where}.{tag}", f"expected an object, found {describe(body)}"))
        return tag, item
    if "type" in body:
        problems.append(
            Problem(f"{where}.{tag}.type", "unknown key (RustGPT's layers have no 'type' key)")
        )
    kind = LAYER_KINDS[tag]
    for cache in kind.CACHES:
        value = body.get(cache)
        if value is not None and not (isinstance(value, dict) and "dim" in value):
            problems.append(
                Problem(
                    f"{where}.{tag}.{cache}",
                    f"expected null or an array (a forward cache), found {describe(value)}",
                )
            )
    layer = {key: value for key, value in body.items() if key not in kind.CACHES}
    return tag, {"type": tag, **layer}


def _check_vocab(vocab: object, problems: list[Problem]) -> Any:
    """The ``words`` of a RustGPT vocab, after checking that encode and decode agree."""
    if not isinstance(vocab, dict):
        problems.append(
            Problem(
                "vocab",
                f"expected an object with encode, decode and words, found {describe(vocab)}",
            )
        )
        return None
    for key in _VOCAB_KEYS:
        if key not in vocab:
            problems.append(Problem(f"vocab.{key}", "missing required key"))
    for key in vocab:
        if key not in _VOCAB_KEYS:
            problems.append(
                Problem(f"vocab.{key}", "unknown key (RustGPT's vocab has encode, decode, words)")
            )
    words = vocab.get("words")
    if not (isinstance(words, list) and all(isinstance(word, str) for word in words)):
        return words  # the 1.0 validator names what is wrong with it
    index: dict[str, int] = {}
    for position, word in enumerate(words):
        index.setdefault(word, position)
    encode, decode = vocab.get("encode"), vocab.get("decode")
    if isinstance(encode, dict):
        for word, token_id in encode.items():
            if word not in index:
                problems.append(
                    Problem(
                        map_key("vocab.encode", word), f"the word {word!r} is not in vocab.words"
                    )
                )
            elif type(token_id) is not int or token_id != index[word]:
                problems.append(
                    Problem(
                        map_key("vocab.encode", word),
                        f"expected {index[word]} (the index of {word!r} in vocab.words), "
                        f"found {describe(token_id)}",
                    )
                )
        for word, position in index.items():
            if word not in encode:
                problems.append(
                    Problem("vocab.encode", f"missing the word {word!r} (vocab.words[{position}])")
                )
    elif "encode" in vocab:
        problems.append(Problem("vocab.encode", f"expected an object, found {describe(encode)}"))
    if isinstance(decode, dict):
        for key, word in decode.items():
            if not _DECIMAL.fullmatch(key):
                problems.append(
                    Problem(map_key("vocab.decode", key), "expected a decimal token id as key")
                )
            elif int(key) >= len(words):
                problems.append(
                    Problem(
                        map_key("vocab.decode", key),
                        f"expected an id below {len(words)} (the number of words), found {key}",
                    )
                )
            elif word != words[int(key)]:
                problems.append(
                    Problem(
                        map_key("vocab.decode", key),
                        f"expected {words[int(key)]!r} (vocab.words[{key}]), "
                        f"found {describe(word)}",
                    )
                )
        for position, word in enumerate(words):
            if str(position) not in decode:
                problems.append(
                    Problem("vocab.decode", f"missing the id {position} (the word {word!r})")
                )
    elif "decode" in vocab:
        problems.append(Problem("vocab.decode", f"expected an object, found {describe(decode)}"))
    return words


def _dim(array: object) -> tuple[int, int] | None:
    dim = array.get("dim") if isinstance(array, dict) else None
    if isinstance(dim, list) and len(dim) == 2 and all(type(n) is int and n > 0 for n in dim):
        return dim[0], dim[1]
    return None


def _infer_config(layers: Any, words: Any) -> tuple[dict[str, int], dict[str, str]]:
    """The config a 1.0 document states, read off the arrays; and where each came from.

    Each layer kind's shape table says which axis of which array carries which
    dimension; the first array that carries one gives it. An axis that cannot be read
    (no such layer, a malformed ``dim``) gets 1: the validator then reports the real
    problem, at the array or the layer order.
    """
    found: dict[str, tuple[int, str]] = {}
    if isinstance(words, list):
        found["vocab_size"] = (len(words), "the number of words in vocab")
    for index, layer in enumerate(layers if isinstance(layers, list) else []):
        tag = layer.get("type") if isinstance(layer, dict) else None
        kind = LAYER_KINDS.get(tag) if isinstance(tag, str) else None
        if kind is None or not isinstance(layer, dict):
            continue
        for name, symbols in kind.SHAPES.items():
            dim = _dim(layer.get(name))
            for axis, symbol in enumerate(symbols):
                if dim is not None and symbol in DIM_NAMES:
                    where = f"network[{index}].{tag}.{name}"
                    found.setdefault(DIM_NAMES[symbol], (dim[axis], where))
    default_hidden = (RUSTGPT_HIDDEN_DIM, "RustGPT's HIDDEN_DIM (no FeedForward layer)")
    found.setdefault("hidden_dim", default_hidden)
    config = {name: found.get(name, (1, ""))[0] for name in _CONFIG_NAMES}
    sources = {name: found[name][1] for name in found}
    return config, sources


_CONFIG_NAMES = ("embedding_dim", "hidden_dim", "max_seq_len", "vocab_size")


def _old_path(path: str, tags: list[str | None], sources: dict[str, str]) -> str:
    match = _LAYER_PATH.match(path)
    if match:
        index, rest = int(match[1]), match[2]
        tag = tags[index] if index < len(tags) else None
        if tag is None or rest == ".type":
            return f"network[{index}]"
        return f"network[{index}].{tag}{rest}"
    if path.startswith("config."):
        return sources.get(path.removeprefix("config."), "")
    if path in ("format", "format_version", "config"):
        return ""
    return path


def _old_message(message: str, sources: dict[str, str]) -> str:
    """``config.embedding_dim = 4`` -> ``embedding_dim = 4, inferred from network[0]...``."""
    for name, source in sources.items():
        message = re.sub(
            rf"config\.{name} = (\d+)", rf"{name} = \1, inferred from {source}", message
        )
    return message.replace("config.", "")


# --- writing ------------------------------------------------------------------------


def rustgpt_document(checkpoint: Checkpoint) -> dict[str, Any]:
    """The checkpoint as RustGPT's structs hold it (``LLM { vocab, network }``), ready to encode.

    Every cache is ``None``; the vocab carries ``encode``, ``decode`` and ``words``;
    each layer has exactly the fields of its RustGPT struct, in declaration order
    (``RUST_FIELDS`` of its kind). The dialect has no place for ``training`` or
    ``metadata`` (dropped, with a :class:`FormatWarning`) and RustGPT's optimizer
    fields are not optional: a missing optimizer becomes a fresh Adam state (zero
    moments, timestep 0, RustGPT's hyper-parameters), which is what a trainer resuming
    from it would start with. A network without a FeedForward layer is refused unless
    its hidden_dim is RustGPT's 256, the value a reader infers for it.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> list(rustgpt_document(tiny_checkpoint())["network"][1])
    ['SelfAttention']
    """
    has_hidden = any(
        "h" in symbols for layer in checkpoint.network for symbols in layer.SHAPES.values()
    )
    if not has_hidden and checkpoint.config.hidden_dim != RUSTGPT_HIDDEN_DIM:
        raise CheckpointError(
            f"RustGPT's files have no config: without a FeedForward layer, hidden_dim "
            f"{checkpoint.config.hidden_dim} would read back as {RUSTGPT_HIDDEN_DIM}",
            path="config.hidden_dim",
        )
    document = wire_document(checkpoint)
    dropped = [
        key for key in type(checkpoint).model_fields if key not in _CARRIED and key in document
    ]
    fresh: list[str] = []
    network = []
    for index, (layer, wire) in enumerate(
        zip(checkpoint.network, document["network"], strict=True)
    ):
        body: dict[str, Any] = {}
        for key in layer.RUST_FIELDS:
            if key in layer.CACHES:
                body[key] = None
            elif key in layer.OPTIMIZERS and wire[key] is None:
                shape = getattr(layer, layer.OPTIMIZERS[key]).shape
                body[key] = AdamState.fresh(shape).model_dump(context={"wire": True})
                fresh.append(f"network[{index}].{key}")
            else:
                body[key] = wire[key]
        network.append({layer.type: body})
    words = list(checkpoint.vocab.words)
    vocab = {
        "encode": {word: position for position, word in enumerate(words)},
        "decode": {str(position): word for position, word in enumerate(words)},
        "words": words,
    }
    if dropped:
        warn(f"RustGPT's own files have no place for {' and '.join(dropped)}: not written")
    if fresh:
        warn(
            f"RustGPT's layers need an optimizer state: wrote fresh Adam states for "
            f"{len(fresh)} missing ones ({fresh[0]}{', ...' if len(fresh) > 1 else ''})"
        )
    return {"vocab": vocab, "network": network}


_CARRIED = ("format", "format_version", "config", "vocab", "network")
"""Fields of a checkpoint that RustGPT's dialect carries (config inferred, not written)."""


def to_rustgpt(checkpoint: Checkpoint, *, indent: int | None = None) -> bytes:
    """The checkpoint as RustGPT's ``serde_json`` would write it (``LLM::load`` reads it).

    Numbers are float32 shortest texts, as Rust's ``serde_json`` writes ``f32``; see
    :func:`rustgpt_document` for what is written.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> to_rustgpt(tiny_checkpoint())[:28]
    b'{"vocab":{"encode":{"w0":0,"'
    """
    if indent not in (None, 2):
        raise ValueError(f"indent: expected None or 2, found {indent!r}")
    option = orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(rustgpt_document(checkpoint), option=option)
