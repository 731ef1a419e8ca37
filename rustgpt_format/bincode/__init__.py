"""RustGPT's bincode ``.bin`` checkpoint (version 0, contract §11) <-> the version-0 document.

:func:`decode` reads the bytes RustGPT's ``LLM::save("model.bin")`` writes as the
dictionary its JSON parses to (:func:`rustgpt_format.codec.parse`), ready for the
version-0 migration; :func:`encode` writes such a dictionary (or the dialect writer's
``rustgpt_document(checkpoint)``) as those bytes; :func:`looks_like` tells a ``.bin``
by its content. The layout is in :mod:`rustgpt_format.bincode.layout`.
"""

from rustgpt_format.bincode.layout import (
    ADAM,
    ADAM_FIELDS,
    ARRAY,
    ARRAY_VERSION,
    CACHE,
    F32,
    LAYER_FIELDS,
    LAYER_KINDS,
    USIZE,
)
from rustgpt_format.bincode.reading import decode, looks_like
from rustgpt_format.bincode.writing import encode

__all__ = [
    "ADAM",
    "ADAM_FIELDS",
    "ARRAY",
    "ARRAY_VERSION",
    "CACHE",
    "F32",
    "LAYER_FIELDS",
    "LAYER_KINDS",
    "USIZE",
    "decode",
    "encode",
    "looks_like",
]
