"""The registry of forms: every way a checkpoint is laid out in bytes.

A form is one module with one :class:`Form` object that says which path suffixes it is
written for, how its bytes are recognised, and how it decodes bytes to a document and
encodes a checkpoint to bytes. :func:`rustgpt_format.load`, ``save``, ``loads``,
``dumps``, ``validate`` and every command go through :data:`FORMS`; a new form is
one new module and one :func:`register` call.

| form          | written for      | told by content                          |
|---------------|------------------|------------------------------------------|
| ``json``      | ``.json``, other | JSON text                                |
| ``json.gz``   | ``.gz``          | the gzip magic bytes                     |
| ``safetensors`` | ``.safetensors`` | a header length within the file, then ``{`` |
| ``rustgpt.bin`` | ``.bin``         | its vocabulary decodes as RustGPT's bincode |

Orthogonal to the form is the dialect of the document inside: format 1.x
(``rustgpt-checkpoint``) or RustGPT's own (``rustgpt``, version 0, see
:mod:`rustgpt_format.dialect`), which the reader migrates and some forms can write.
"""

from __future__ import annotations

from rustgpt_format.forms.base import (
    DIALECTS,
    Decoded,
    Dialect,
    Form,
    ReadOptions,
    Registry,
    Source,
    WriteOptions,
)
from rustgpt_format.forms.gzip import GZIP
from rustgpt_format.forms.json import JSON
from rustgpt_format.forms.rustgpt_bin import RUSTGPT_BIN
from rustgpt_format.forms.safetensors import SAFETENSORS

FORMS = Registry([SAFETENSORS, RUSTGPT_BIN, GZIP, JSON])
"""Every form this package reads and writes; recognition tries them in this order."""

register = FORMS.register
unregister = FORMS.unregister

__all__ = [
    "DIALECTS",
    "FORMS",
    "Decoded",
    "Dialect",
    "Form",
    "ReadOptions",
    "Registry",
    "Source",
    "WriteOptions",
    "register",
    "unregister",
]
