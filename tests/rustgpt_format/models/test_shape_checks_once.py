"""Inside a checkpoint's validation each layer's arrays are checked once (issue 13).

The layer's own validator checks its arrays against the dims it binds; §6 then checks
the layer against the config from those dims alone, and checks its arrays again only
when they disagree (for the error naming the array). A layer the checkpoint did not
validate itself is checked in full. The messages are pinned by test_structure.py and
test_layers.py; here, how often the check runs and when the shortcut may be taken.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format.errors import FieldError
from rustgpt_format.examples import tiny_checkpoint
from rustgpt_format.models import LayerBase, LayerNorm, SelfAttention
from rustgpt_format.models.layers import own_checks
from rustgpt_format.models.structure import check_shapes


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, int]]]]:
    """Every call of ``LayerBase.check_shapes``: the layer's type and the dims given."""
    made: list[tuple[str, dict[str, int]]] = []
    real = LayerBase.check_shapes

    def spy(self: LayerBase, dims: Mapping[str, int]) -> dict[str, int]:
        made.append((self.type, dict(dims)))
        return real(self, dims)

    monkeypatch.setattr(LayerBase, "check_shapes", spy)
    yield made


def test_a_checkpoint_document_checks_each_layer_once(
    calls: list[tuple[str, dict[str, int]]],
) -> None:
    checkpoint = tiny_checkpoint()
    document = checkpoint.model_dump()
    calls.clear()
    assert rf.Checkpoint.model_validate(document) == checkpoint
    assert calls == [(layer.type, {}) for layer in checkpoint.network]


def test_a_layer_that_disagrees_with_the_config_is_checked_again_for_the_error(
    calls: list[tuple[str, dict[str, int]]],
) -> None:
    document = tiny_checkpoint().model_dump()
    document["config"]["hidden_dim"] = 5  # the FeedForward layer (index 2) says 8
    calls.clear()
    with pytest.raises(ValueError, match=r"config.hidden_dim = 5"):
        rf.Checkpoint.model_validate(document)
    dims = {"d": 4, "h": 5, "V": 3, "L": 2}
    own = [(layer["type"], {}) for layer in document["network"]]
    assert calls == [*own, ("FeedForward", dims)]  # the layers before it agreed


def layer_norm(width: int) -> LayerNorm:
    ones = np.ones((1, width), np.float32)
    return LayerNorm(epsilon=1e-5, gamma=ones, beta=ones.copy())


def test_only_layers_validated_in_the_scope_are_recorded() -> None:
    before = layer_norm(4)
    with own_checks() as recorded:
        inside = layer_norm(4)
    after = layer_norm(4)
    assert list(recorded) == [id(inside)]
    assert recorded[id(inside)] == (inside, {"d": 4})
    assert id(before) not in recorded and id(after) not in recorded


def test_a_record_of_another_object_under_the_same_id_is_not_trusted() -> None:
    """Ids are reused once an object is gone: the record must be of this very layer."""
    checkpoint = tiny_checkpoint()
    attention = checkpoint.network[1]
    assert isinstance(attention, SelfAttention)
    attention.w_k = np.zeros((4, 3), np.float32)  # changed after its own check
    stranger = layer_norm(4)
    own = {id(attention): (stranger, {"d": 4})}  # agrees with the config, but not this layer's
    for records in (own, None):  # None: no records at all (a partial load's Parts)
        with pytest.raises(FieldError) as caught:
            check_shapes(checkpoint.config, checkpoint.vocab, checkpoint.network, records)
        assert caught.value.parts == ("network", 1, "w_k")
        assert caught.value.message == (
            "expected shape (4, 4) (config.embedding_dim = 4), found (4, 3)"
        )


def test_a_record_agreeing_with_the_config_spares_the_check() -> None:
    """The shortcut itself: a layer recorded with the config's dims is not checked again
    (here its arrays were changed after the record, which only a stale record would allow)."""
    checkpoint = tiny_checkpoint()
    attention = checkpoint.network[1]
    assert isinstance(attention, SelfAttention)
    attention.w_k = np.zeros((4, 3), np.float32)
    agreeing = {id(attention): (attention, {"d": 4})}
    check_shapes(checkpoint.config, checkpoint.vocab, checkpoint.network, agreeing)
    disagreeing = {id(attention): (attention, {"d": 5})}
    with pytest.raises(FieldError):
        check_shapes(checkpoint.config, checkpoint.vocab, checkpoint.network, disagreeing)


def test_a_moment_after_an_absent_optimizer_is_still_checked() -> None:
    """The optimizers are checked one by one: one that is null does not end the check."""
    attention = tiny_checkpoint().network[1]
    assert isinstance(attention, SelfAttention)
    fields = attention.model_dump()
    fields["optimizer_w_q"] = None  # absent, before the one at fault
    fields["optimizer_w_k"]["v"] = np.zeros((4, 3), np.float32)
    with pytest.raises(
        ValueError, match=r"expected shape \(4, 4\) \(that of w_k\), found \(4, 3\)"
    ):
        SelfAttention.model_validate(fields)
