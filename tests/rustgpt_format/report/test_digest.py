"""The streamed digest is the SHA-256 of the canonical JSON bytes, as ``inspect`` prints."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from rustgpt_format import Checkpoint
from rustgpt_format.codec import encode
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.report import digest
from rustgpt_format.report.digest import canonical_sha256


def odd(checkpoint: Checkpoint) -> Checkpoint:
    # The one float32 pair whose shortest text reads back wrong through float64:
    # the writer spells it long (an orjson Fragment), which the stream must hash too.
    checkpoint.network[1].w_q[0, 0] = np.float32(7.038531e-26)
    return checkpoint


def tricky_strings(checkpoint: Checkpoint) -> Checkpoint:
    checkpoint.metadata = {"note": 'a "data": [1, 2] inside a string', "é": "\u202e<b>"}
    return checkpoint


CASES = [
    ("tiny", tiny_checkpoint),
    ("default size", random_checkpoint),
    ("inference only", lambda: random_checkpoint(optimizer=False)),
    ("a float with a long spelling", lambda: odd(tiny_checkpoint())),
    ("strings that look like arrays", lambda: tricky_strings(tiny_checkpoint())),
]


@pytest.mark.parametrize("chunk", [1 << 18, 3])
@pytest.mark.parametrize(("name", "make"), CASES, ids=[name for name, _ in CASES])
def test_streamed_digest_is_the_canonical_json_s(
    name: str, make: object, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest, "CHUNK", chunk)
    checkpoint = make()  # type: ignore[operator]
    assert canonical_sha256(checkpoint) == hashlib.sha256(encode(checkpoint)).hexdigest()
