"""The safetensors form: opened by the official library, exact, lazy, and hard to fool."""

from __future__ import annotations

import io
import json
import struct
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given, settings

import rustgpt_format as rf
import rustgpt_format.forms.safetensors as binary
from rustgpt_format.examples import random_checkpoint, tiny_checkpoint
from rustgpt_format.forms import ReadOptions, Source
from rustgpt_format.forms.safetensors import tensor_name
from rustgpt_format.models import Parts
from rustgpt_format.reading import read_parts, read_source
from tests.strategies import checkpoints


def split(data: bytes) -> tuple[dict[str, Any], bytes]:
    """A safetensors file as (header, tensor bytes)."""
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def join(header: dict[str, Any], body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def test_the_official_library_reads_our_files(tmp_path: Path) -> None:
    checkpoint = tiny_checkpoint()
    target = tmp_path / "model.safetensors"
    rf.save(checkpoint, target)
    tensors = safetensors.numpy.load_file(str(target))
    assert len(tensors) == 15 + 2 * 14  # parameters, and m and v of each Adam state
    np.testing.assert_array_equal(tensors["network.1.w_q"], checkpoint.network[1].w_q)  # type: ignore[union-attr]
    optimizer = checkpoint.network[1].optimizer_w_q  # type: ignore[union-attr]
    np.testing.assert_array_equal(tensors["network.1.optimizer_w_q.m"], optimizer.m)
    header, _ = split(target.read_bytes())
    metadata = header["__metadata__"]
    assert list(metadata) == ["checkpoint"]
    rest = json.loads(metadata["checkpoint"])
    assert list(rest) == ["format", "format_version", "config", "vocab", "network"]
    assert (rest["format"], rest["format_version"]) == ("rustgpt-checkpoint", "1.0")
    assert rest["network"][1] == {
        "type": "SelfAttention",
        "embedding_dim": 4,
        **{
            name: {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "timestep": state.timestep}
            for name, state in checkpoint.network[1].optimizers().items()
            if state is not None
        },
    }


@settings(max_examples=40, deadline=None)
@given(checkpoints())
def test_binary_and_json_hold_the_same_checkpoint_bit_for_bit(checkpoint: rf.Checkpoint) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "model.safetensors"
        target.write_bytes(_encode(checkpoint))
        back = rf.load(target)
    assert rf.dumps(back) == rf.dumps(checkpoint)


def test_the_same_checkpoint_gives_the_same_bytes() -> None:
    assert _encode(tiny_checkpoint()) == _encode(tiny_checkpoint())


# --- weights only --------------------------------------------------------------------


class Recorder:
    """Wraps safe_open and records every tensor whose bytes or header entry were asked for."""

    def __init__(self) -> None:
        self.touched: list[str] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        recorder = self
        real = safetensors.safe_open(*args, **kwargs)

        class Handle:
            def __enter__(self) -> Handle:
                real.__enter__()
                return self

            def __exit__(self, *exc: object) -> None:
                real.__exit__(*exc)

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def get_tensor(self, name: str) -> Any:
                recorder.touched.append(name)
                return real.get_tensor(name)

            def get_slice(self, name: str) -> Any:
                recorder.touched.append(name)
                return real.get_slice(name)

        return Handle()


def test_weights_only_never_touches_an_optimizer_tensor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoint = random_checkpoint(vocab_size=20, embedding_dim=8, hidden_dim=16, max_seq_len=4)
    target = tmp_path / "model.safetensors"
    rf.save(checkpoint, target)
    recorder = Recorder()
    monkeypatch.setattr(binary, "safe_open", recorder)

    weights = rf.load(target, optimizer=False)

    assert recorder.touched
    assert not [name for name in recorder.touched if "optimizer" in name]
    assert sorted(set(recorder.touched)) == sorted(
        tensor_name(index, field)
        for index, layer in enumerate(checkpoint.network)
        for field in layer.SHAPES
    )
    for layer, full in zip(weights.network, checkpoint.network, strict=True):
        assert all(state is None for state in layer.optimizers().values())
        for name, array in layer.parameters().items():
            assert array.tobytes() == full.parameters()[name].tobytes()
    recorder.touched.clear()
    rf.load(target)
    assert any("optimizer" in name for name in recorder.touched)


def test_weights_only_loads_a_file_whose_optimizer_bytes_are_garbage(tmp_path: Path) -> None:
    """Another proof: NaN in every optimizer moment stops a full load, not a weights-only one."""
    checkpoint = tiny_checkpoint()
    header, body = split(_encode(checkpoint))
    body = bytearray(body)
    for name, entry in header.items():
        if ".optimizer" in name:
            start, end = entry["data_offsets"]
            body[start:end] = np.full((end - start) // 4, np.nan, np.float32).tobytes()
    target = tmp_path / "model.safetensors"
    target.write_bytes(join(header, bytes(body)))
    with pytest.raises(rf.CheckpointError, match="expected a finite float32"):
        rf.load(target)
    weights = rf.load(target, optimizer=False)
    assert weights.network[1].w_q.tobytes() == checkpoint.network[1].w_q.tobytes()  # type: ignore[union-attr]


# --- files whose header lies ---------------------------------------------------------

Lie = Callable[[dict[str, Any], bytearray], tuple[dict[str, Any], bytes]]


def entry(header: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = header[name]
    return found


def overlapping(header: dict[str, Any], body: bytearray) -> tuple[dict[str, Any], bytes]:
    a, b = entry(header, "network.1.w_q"), entry(header, "network.1.w_k")
    start, end = a["data_offsets"]
    b["data_offsets"] = [start + 4, end + 4]  # starts inside w_q (distinct starts: one order)
    return header, bytes(body)


def past_the_end(header: dict[str, Any], body: bytearray) -> tuple[dict[str, Any], bytes]:
    return header, bytes(body[:-4])


def wrong_dtype(header: dict[str, Any], body: bytearray) -> tuple[dict[str, Any], bytes]:
    w_q = entry(header, "network.1.w_q")
    w_q["dtype"], w_q["shape"] = "F64", [4, 2]  # same byte count, other meaning
    return header, bytes(body)


def wrong_rank(header: dict[str, Any], body: bytearray) -> tuple[dict[str, Any], bytes]:
    entry(header, "network.1.w_q")["shape"] = [16]
    return header, bytes(body)


def without(name: str) -> Lie:
    def lie(header: dict[str, Any], body: bytearray) -> tuple[dict[str, Any], bytes]:
        start, end = header.pop(name)["data_offsets"]
        for other in header.values():
            if "data_offsets" in other and other["data_offsets"][0] >= end:
                other["data_offsets"] = [offset - (end - start) for offset in other["data_offsets"]]
        return header, bytes(body[:start] + body[end:])

    return lie


def with_extra(header: dict[str, Any], body: bytearray) -> tuple[dict[str, Any], bytes]:
    header["network.9.w_q"] = {
        "dtype": "F32",
        "shape": [1, 1],
        "data_offsets": [len(body), len(body) + 4],
    }
    return header, bytes(body) + bytes(4)


def metadata(change: Callable[[dict[str, str]], object]) -> Lie:
    def lie(header: dict[str, Any], body: bytearray) -> tuple[dict[str, Any], bytes]:
        change(header["__metadata__"])
        return header, bytes(body)

    return lie


def document(change: Callable[[dict[str, Any]], object]) -> Lie:
    def edit(meta: dict[str, str]) -> None:
        rest = json.loads(meta["checkpoint"])
        change(rest)
        meta["checkpoint"] = json.dumps(rest)

    return metadata(edit)


LIES: list[tuple[str, Lie, str, str]] = [
    (
        "overlapping offsets",
        overlapping,
        "",
        "expected a safetensors file, found a damaged one: Error while deserializing header: "
        "invalid offset for tensor `network.1.w_q`",
    ),
    (
        "offsets past the end",
        past_the_end,
        "",
        "expected a safetensors file, found a damaged one: Error while deserializing header: "
        "incomplete metadata, file not fully covered",
    ),
    (
        "wrong dtype",
        wrong_dtype,
        "network[1].w_q",
        "tensor `network.1.w_q`: expected a 2-D F32 tensor, found 2-D F64 of shape (4, 2)",
    ),
    (
        "wrong rank",
        wrong_rank,
        "network[1].w_q",
        "tensor `network.1.w_q`: expected a 2-D F32 tensor, found 1-D F32 of shape (16,)",
    ),
    (
        "a weight missing",
        without("network.1.w_q"),
        "network[1].w_q",
        "tensor `network.1.w_q` not found in the file",
    ),
    (
        "a moment missing",
        without("network.1.optimizer_w_q.v"),
        "network[1].optimizer_w_q.v",
        "tensor `network.1.optimizer_w_q.v` not found in the file",
    ),
    (
        "an extra tensor",
        with_extra,
        "",
        "unexpected tensor `network.9.w_q`: the checkpoint in __metadata__ has no place for it",
    ),
    (
        "an optimizer the metadata drops",
        document(lambda d: d["network"][1].update(optimizer_w_q=None)),
        "",
        "unexpected tensor `network.1.optimizer_w_q.m`: the checkpoint in __metadata__ has no "
        "place for it",
    ),
    (
        "an array in the metadata too",
        document(lambda d: d["network"][1].update(w_q=[])),
        "network[1].w_q",
        "expected the array only as tensor `network.1.w_q`, found it in __metadata__ too",
    ),
    (
        "not a checkpoint",
        document(lambda d: d.update(format="other")),
        "__metadata__.checkpoint.format",
        "expected a RustGPT checkpoint (format 'rustgpt-checkpoint'), found string 'other'",
    ),
    (
        "no document",
        metadata(lambda m: m.update(producer=m.pop("checkpoint"))),
        "__metadata__",
        "expected a RustGPT checkpoint as JSON under the key 'checkpoint', found keys 'producer'",
    ),
    (
        "a document that is not JSON",
        metadata(lambda m: m.update(checkpoint="{")),
        "__metadata__.checkpoint",
        "expected a JSON document, found invalid JSON: unexpected end of data: line 1 column 2 "
        "(char 1)",
    ),
    (
        "another major version",
        document(lambda d: d.update(format_version="2.0")),
        "format_version",
        "written by a newer rustgpt-format (format 2.0); this reader reads 1.x: upgrade rustgpt-format "
        "to read it",
    ),
    (
        "a config that disagrees",
        document(lambda d: d["config"].update(embedding_dim=5)),
        "network[0].token_embeddings",
        "expected shape (3, 5) (config.vocab_size = 3; config.embedding_dim = 5), found (3, 4)",
    ),
]


@pytest.mark.parametrize(("why", "lie", "path", "message"), LIES, ids=[row[0] for row in LIES])
def test_files_whose_header_lies_are_refused(
    why: str, lie: Lie, path: str, message: str, tmp_path: Path
) -> None:
    header, body = split(_encode(tiny_checkpoint()))
    target = tmp_path / "model.safetensors"
    target.write_bytes(join(*lie(header, bytearray(body))))
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(target)
    assert (caught.value.path, caught.value.message) == (path, message)


def test_a_newer_minor_version_is_read_with_a_warning(tmp_path: Path) -> None:
    header, body = split(_encode(tiny_checkpoint()))
    rest = json.loads(header["__metadata__"]["checkpoint"])
    rest["format_version"] = "1.3"
    rest["network"][1]["attention_heads"] = 1
    header["__metadata__"]["checkpoint"] = json.dumps(rest)
    target = tmp_path / "model.safetensors"
    target.write_bytes(join(header, body))
    with pytest.warns(
        rf.FormatWarning, match=r"ignored unknown keys network\[1\]\.attention_heads"
    ):
        assert rf.load(target) == tiny_checkpoint()


def test_an_inference_only_checkpoint_has_no_optimizer_tensors(tmp_path: Path) -> None:
    checkpoint = random_checkpoint(
        vocab_size=3, embedding_dim=2, hidden_dim=2, max_seq_len=1, optimizer=False
    )
    target = tmp_path / "model.safetensors"
    rf.save(checkpoint, target)
    assert not [name for name in safetensors.numpy.load_file(str(target)) if "optimizer" in name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rf.load(target) == checkpoint


# --- the full load: one read into one buffer ---------------------------------------


def test_a_full_load_gives_separate_writable_arrays(tmp_path: Path) -> None:
    checkpoint = tiny_checkpoint()
    target = tmp_path / "model.safetensors"
    rf.save(checkpoint, target)
    loaded = rf.load(target)
    arrays: list[np.ndarray] = []
    for layer in loaded.network:
        arrays += layer.parameters().values()
        for state in layer.optimizers().values():
            assert state is not None
            arrays += [state.m, state.v]
    before = [array.copy() for array in arrays]
    for array in arrays:
        assert array.flags.writeable and array.flags.c_contiguous
        array += 1  # trained in place, as the model does
    for array, old in zip(arrays, before, strict=True):  # no array shares another's bytes
        np.testing.assert_array_equal(array, old + 1)


def test_a_nan_in_a_full_load_is_named_by_array_and_element(tmp_path: Path) -> None:
    checkpoint = tiny_checkpoint()
    header, body = split(_encode(checkpoint))
    start, _ = header["network.1.w_k"]["data_offsets"]
    cols = checkpoint.network[1].w_k.shape[1]  # type: ignore[union-attr]
    element = start + 4 * (1 * cols + 2)  # [1, 2]
    body = body[:element] + np.float32(np.inf).tobytes() + body[element + 4 :]
    target = tmp_path / "model.safetensors"
    target.write_bytes(join(header, body))
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(target)
    assert (caught.value.path, caught.value.message) == (
        "network[1].w_k",
        "expected a finite float32 (magnitude below 3.4028235e38) at [1, 2], found inf",
    )


def cut_after_opening(target: Path, keep: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library checks the header of ``target``; then the file is cut to ``keep`` bytes."""

    def opened(*args: Any, **kwargs: Any) -> Any:
        handle = safetensors.safe_open(*args, **kwargs)
        with open(target, "r+b") as stream:
            stream.truncate(keep)
        return handle

    monkeypatch.setattr(binary, "safe_open", opened)


def test_a_file_cut_short_while_it_is_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library has checked the header; the file loses its tail before the data are read."""
    target = tmp_path / "model.safetensors"
    rf.save(tiny_checkpoint(), target)
    size = target.stat().st_size
    cut_after_opening(target, size - 16, monkeypatch)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(target)
    assert caught.value.message.endswith("the file got shorter while it was read")


def test_a_save_renamed_over_the_file_mid_read_does_not_mix_two_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header the library reads and the data read after it come from one file."""
    first = random_checkpoint(vocab_size=5, embedding_dim=4, hidden_dim=8, max_seq_len=3, seed=1)
    second = random_checkpoint(vocab_size=7, embedding_dim=6, hidden_dim=4, max_seq_len=2, seed=2)
    target = tmp_path / "model.safetensors"
    rf.save(first, target)

    def save_then_open(*args: Any, **kwargs: Any) -> Any:
        rf.save(second, target)  # another process's save lands between our open and the library's
        return safetensors.safe_open(*args, **kwargs)

    monkeypatch.setattr(binary, "safe_open", save_then_open)
    assert rf.load(target) == first
    monkeypatch.undo()
    assert rf.load(target) == second


def test_a_file_rewritten_in_place_while_it_is_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same file, other bytes: the header length read first no longer fits the file."""
    target = tmp_path / "model.safetensors"
    rf.save(tiny_checkpoint(), target)
    first = target.read_bytes()
    other = _encode(random_checkpoint(vocab_size=9, embedding_dim=2, hidden_dim=2, max_seq_len=1))

    def rewrite_then_open(*args: Any, **kwargs: Any) -> Any:
        with open(target, "r+b") as stream:  # in place: the reader's descriptor sees it
            stream.write(other)
            stream.truncate()
        return safetensors.safe_open(*args, **kwargs)

    monkeypatch.setattr(binary, "safe_open", rewrite_then_open)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(target)
    # the room after the first file's header; the tensors of the other's
    room = len(first) - 8 - struct.unpack("<Q", first[:8])[0]
    tensors = len(other) - 8 - struct.unpack("<Q", other[:8])[0]
    assert caught.value.message == (
        f"expected the tensors to fill the {room} bytes after the header, "
        f"found {tensors} bytes of tensors"
    )
    assert room != tensors


def test_a_file_cut_short_while_a_partial_load_reads_it_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message counts the bytes of the tensor that came short (the last in the file)."""
    target = tmp_path / "model.safetensors"
    rf.save(tiny_checkpoint(), target)
    size = target.stat().st_size
    header, _ = split(target.read_bytes())
    last = max(header.items(), key=lambda item: item[1].get("data_offsets", [0])[0])
    assert last[0] == "network.5.w_out" and last[1]["shape"] == [4, 3]
    cut_after_opening(target, size - 16, monkeypatch)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.load(target, layers=[5])
    assert caught.value.message == (
        "expected 48 bytes of tensors, found 32: the file got shorter while it was read"
    )


class Trickle(io.FileIO):
    """A file that gives at most 7 bytes a read, as a slow network file system may."""

    def readinto(self, buffer: Any) -> int:
        return super().readinto(memoryview(buffer).cast("B")[:7])


@pytest.mark.parametrize("options", [{}, {"optimizer": False}, {"layers": (1,)}])
def test_a_file_read_a_few_bytes_at_a_time_is_read_whole(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    checkpoint = random_checkpoint(vocab_size=5, embedding_dim=4, hidden_dim=8, max_seq_len=3)
    target = tmp_path / "model.safetensors"
    rf.save(checkpoint, target)
    with Trickle(target) as stream:
        source = Source.of_file(stream, str(target))
        if "layers" in options:
            assert read_parts(source, ReadOptions(**options)) == Parts.of(checkpoint, [1])
        else:
            assert read_source(source, ReadOptions(**options)).checkpoint == rf.load(
                target, **options
            )


def _encode(checkpoint: rf.Checkpoint) -> bytes:
    return rf.dumps(checkpoint, form="safetensors")


def numbers_in(checkpoint: rf.Checkpoint) -> int:
    """Parameters and Adam moments: every float32 the file holds."""
    parameters = sum(a.size for layer in checkpoint.network for a in layer.parameters().values())
    moments = sum(
        state.m.size + state.v.size
        for layer in checkpoint.network
        for state in layer.optimizers().values()
        if state is not None
    )
    return parameters + moments


@pytest.mark.parametrize("source", ["bytes", "path"])
def test_a_callers_max_elements_is_honoured(source: str, tmp_path: Path) -> None:
    """Limits(max_elements=n) bounds the tensors' numbers, from memory and from a file."""
    checkpoint = tiny_checkpoint()
    total = numbers_in(checkpoint)
    assert total == 519
    data = rf.dumps(checkpoint, form="safetensors")
    target = tmp_path / "model.safetensors"
    target.write_bytes(data)

    def read(bound: int) -> rf.Checkpoint:
        limits = rf.Limits(max_elements=bound)
        return (
            rf.loads(data, limits=limits) if source == "bytes" else rf.load(target, limits=limits)
        )

    assert read(total) == checkpoint  # exactly enough
    for bound, tensor in [(total - 1, "network.5.w_out"), (100, "network.1.optimizer_w_q.m")]:
        with pytest.raises(rf.CheckpointError) as caught:
            read(bound)
        assert caught.value.message == (
            f"tensor `{tensor}`: expected at most {bound} numbers in all tensors "
            "(Limits.max_elements), found more by this one; to read it anyway, pass "
            "limits=Limits(...) with a higher bound"
        )
