"""The layout of RustGPT's bincode ``.bin`` (contract §11): which structs, in which order.

RustGPT's ``LLM::save`` writes ``bincode::serde::encode_to_vec(&llm,
bincode::config::standard())`` for a path not ending in ``.json``: the structs of the
JSON dialect (§9) in declaration order, with nothing between them — no field names,
no magic number, no version. bincode 2's standard configuration writes:

- an unsigned integer (``usize``: a length, an id, a ``timestep``; ``u32``: an enum's
  variant index) as a varint: one byte up to 250, else a marker byte 251 / 252 / 253
  followed by 2 / 4 / 8 little-endian bytes (254, a ``u128``, and 255 are invalid here);
- a ``u8`` (ndarray's version ``v``) as one byte, an ``f32`` as 4 little-endian bytes;
- a ``String`` as its byte length (varint) and its UTF-8 bytes;
- a ``Vec`` or ``HashMap`` as its length (varint) and its items (a map: key, value, ...);
- an ``Option`` as a tag byte, 0 (``None``) or 1 followed by the value;
- an enum (``LayerEnum``) as its variant index (varint) and the variant's value;
- a struct as its fields in declaration order; an ``Array2<f32>`` (ndarray's serde) as
  the struct ``{v: u8, dim: (usize, usize), data: seq of f32}``.
"""

from __future__ import annotations

import struct
from typing import Any

import orjson

ARRAY, CACHE, ADAM, F32, USIZE = "array", "cache", "adam", "f32", "usize"
"""The kinds of field: ``Array2<f32>``, ``Option<Array2<f32>>``, ``Adam``, ``f32``, ``usize``."""

LAYER_KINDS = ("Embeddings", "SelfAttention", "FeedForward", "LayerNorm", "OutputProjection")
"""``LayerEnum``'s variants; a layer's position here is its variant index in the file."""

ADAM_FIELDS: tuple[tuple[str, str], ...] = (
    ("beta1", F32),
    ("beta2", F32),
    ("epsilon", F32),
    ("timestep", USIZE),
    ("m", ARRAY),
    ("v", ARRAY),
)
"""RustGPT's ``Adam`` struct (``src/adam.rs``), in declaration order."""

LAYER_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Embeddings": (
        ("token_embeddings", ARRAY),
        ("positional_embeddings", ARRAY),
        ("cached_input", CACHE),
        ("token_optimizer", ADAM),
        ("positional_optimizer", ADAM),
    ),
    "SelfAttention": (
        ("embedding_dim", USIZE),
        ("w_q", ARRAY),
        ("w_k", ARRAY),
        ("w_v", ARRAY),
        ("cached_input", CACHE),
        ("optimizer_w_q", ADAM),
        ("optimizer_w_k", ADAM),
        ("optimizer_w_v", ADAM),
    ),
    "FeedForward": (
        ("w1", ARRAY),
        ("b1", ARRAY),
        ("w2", ARRAY),
        ("b2", ARRAY),
        ("input", CACHE),
        ("hidden_pre_activation", CACHE),
        ("hidden_post_activation", CACHE),
        ("optimizer_w1", ADAM),
        ("optimizer_b1", ADAM),
        ("optimizer_w2", ADAM),
        ("optimizer_b2", ADAM),
    ),
    "LayerNorm": (
        ("epsilon", F32),
        ("gamma", ARRAY),
        ("beta", ARRAY),
        ("cached_input", CACHE),
        ("cached_mean", CACHE),
        ("cached_std", CACHE),
        ("optimizer_gamma", ADAM),
        ("optimizer_beta", ADAM),
    ),
    "OutputProjection": (
        ("w_out", ARRAY),
        ("b_out", ARRAY),
        ("optimizer", ADAM),
        ("cached_input", CACHE),
    ),
}
"""Each layer struct of RustGPT (``src/*.rs``), fields in declaration order."""

ARRAY_VERSION = 1
"""ndarray's ``ARRAY_FORMAT_VERSION``, the ``v`` of every array."""

SINGLE_BYTE_MAX, U16, U32, U64, U128 = 250, 251, 252, 253, 254
"""bincode's varint: a value up to 250 in one byte, else a marker byte and 2, 4, 8 or 16 bytes."""
WIDTH = {U16: 2, U32: 4, U64: 8}
"""Bytes after each marker this format allows (a ``u128`` never occurs)."""
MIN_BYTES = {ARRAY: 4, CACHE: 1, ADAM: 3 * 4 + 1 + 2 * 4, F32: 4, USIZE: 1}
"""The fewest bytes a field of each kind takes (an empty array: v, two dims, a length)."""
MIN_LAYER_BYTES = 1 + min(
    sum(MIN_BYTES[kind] for _, kind in fields) for fields in LAYER_FIELDS.values()
)
"""The fewest bytes a layer takes (31, an empty OutputProjection): bounds a layer count."""


def _skeleton(fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    empty = {"v": 1, "dim": [0, 0], "data": []}
    values = {ARRAY: empty, CACHE: None, F32: 0, USIZE: 0}
    return {name: _skeleton(ADAM_FIELDS) if kind == ADAM else values[kind] for name, kind in fields}


LAYER_CHARGE = {
    kind: len(orjson.dumps({kind: _skeleton(fields)})) for kind, fields in LAYER_FIELDS.items()
}
"""What a layer counts against Limits.max_header_bytes: its JSON without numbers.

A layer takes 31 bytes or more in bincode but some 2 KB of Python objects once decoded;
counting it as its JSON keeps the memory a file can claim per byte close to the JSON
form's, whose text outside the arrays the same limit bounds.
"""
ENTRY_CHARGE = 4
"""What a vocab entry counts beyond its bytes: JSON's quotes, colon and comma."""
RAISE = "; to read it anyway, pass limits=Limits(...) with a higher bound"
"""How a message about a limit ends."""
F32_LE = struct.Struct("<f")
"""An ``f32`` as bincode's standard configuration writes it."""


def map_key(prefix: str, key: str) -> str:
    """The path of a map entry, as the JSON dialect names it: ``vocab.encode["cat"]``."""
    return f"{prefix}[{orjson.dumps(key).decode()}]"


def _example() -> dict[str, Any]:
    def adam() -> dict[str, Any]:
        return {
            "beta1": 0.8999999761581421,
            "beta2": 0.9990000128746033,
            "epsilon": 9.99999993922529e-09,
            "timestep": 0,
            "m": {"v": 1, "dim": [1, 2], "data": [0.0, 0.0]},
            "v": {"v": 1, "dim": [1, 2], "data": [0.0, 0.0]},
        }

    norm = {
        "epsilon": 9.999999747378752e-06,
        "gamma": {"v": 1, "dim": [1, 2], "data": [1.0, 1.0]},
        "beta": {"v": 1, "dim": [1, 2], "data": [0.0, 0.0]},
        "cached_input": None,
        "cached_mean": None,
        "cached_std": None,
        "optimizer_gamma": adam(),
        "optimizer_beta": adam(),
    }
    vocab = {"encode": {"hi": 0, "</s>": 1}, "decode": {"0": "hi", "1": "</s>"}}
    return {"vocab": {**vocab, "words": ["hi", "</s>"]}, "network": [{"LayerNorm": norm}]}


EXAMPLE = _example()
"""A small version-0 document (one LayerNorm; not a valid model), for the examples."""
