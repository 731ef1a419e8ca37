"""§3 config: each size a strict positive integer."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint

# (value of config.hidden_dim, message); each refused at config.hidden_dim
SIZES = [
    (4.0, "expected an integer, found 4.0"),  # a float, even a whole one
    (True, "expected an integer, found true"),  # a bool is no integer
    ("8", "expected an integer, found string '8'"),
    (0, "expected a value > 0, found 0"),
    (-8, "expected a value > 0, found -8"),
]


@pytest.mark.parametrize(("value", "message"), SIZES)
def test_a_size_that_is_no_positive_integer_is_named(value: Any, message: str) -> None:
    document = orjson.loads(rf.dumps(tiny_checkpoint()))
    document["config"]["hidden_dim"] = value
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(orjson.dumps(document))
    assert (caught.value.path, caught.value.message) == ("config.hidden_dim", message)
