"""The SHA-256 of a checkpoint's canonical JSON, without holding that JSON in memory.

``inspect`` hashes ``encode(checkpoint)``: for a 94 M-float checkpoint that is a
gigabyte of text. The canonical JSON is the compact orjson text of the wire document,
in which each array's ``data`` is a flat list of shortest float texts, each written
independently of its neighbours: so the text of a list is the texts of its chunks
joined by commas, and hashing the skeleton and the chunks in order gives the same
digest.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import numpy as np
import orjson

from rustgpt_format import Checkpoint
from rustgpt_format.codec import wire_document
from rustgpt_format.float32 import wire_numbers

CHUNK = 1 << 18
"""Floats written at once (about 3 MiB of text)."""


def canonical_sha256(checkpoint: Checkpoint) -> str:
    """SHA-256 of ``encode(checkpoint)``, the digest ``inspect`` prints, hashed in chunks.

    >>> from rustgpt_format.codec import encode
    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> ckpt = tiny_checkpoint()
    >>> canonical_sha256(ckpt) == hashlib.sha256(encode(ckpt)).hexdigest()
    True
    """
    marker = secrets.token_hex(16)  # a file's own strings cannot hold it but by a 2^-128 chance
    lists: list[Any] = []

    def hollow(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: _placeholder(value, marker, lists)
                if key == "data" and isinstance(value, (np.ndarray, orjson.Fragment))
                else hollow(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [hollow(item) for item in node]
        return node

    skeleton = orjson.dumps(hollow(wire_document(checkpoint)), option=orjson.OPT_SERIALIZE_NUMPY)
    digest = hashlib.sha256()
    pieces = skeleton.split(f'"{marker}'.encode())
    digest.update(pieces[0])
    for piece in pieces[1:]:
        number, rest = piece.split(b'"', 1)
        _hash_list(digest, lists[int(number)])
        digest.update(rest)
    return digest.hexdigest()


def _placeholder(value: Any, marker: str, lists: list[Any]) -> str:
    lists.append(value)
    return f"{marker}{len(lists) - 1}"


def _hash_list(digest: Any, numbers: np.ndarray | orjson.Fragment) -> None:
    """Hash the JSON text of a flat ``data`` list, a chunk at a time."""
    if isinstance(numbers, orjson.Fragment):  # already text (a float needing a long spelling)
        digest.update(orjson.dumps(numbers))
        return
    digest.update(b"[")
    for start in range(0, numbers.size, CHUNK):
        chunk = wire_numbers(numbers[start : start + CHUNK])
        text = orjson.dumps(chunk, option=orjson.OPT_SERIALIZE_NUMPY)
        digest.update(b"," + text[1:-1] if start else text[1:-1])
    digest.update(b"]")
