"""Training throughput of the NumPy model against the same model in PyTorch (eager, CPU).

Default configuration (d = 128, h = 256, L = 80, three blocks) on RustGPT's corpus,
one sequence per step as RustGPT trains. Each side runs one untimed warm-up epoch,
then several timed epochs; the best epoch counts. Prints tokens per second (input
positions trained per second) for both sides, their ratio, and the peak memory that
one NumPy training step allocates.

    python benchmarks/train_throughput.py [--data DIR] [--rounds N] [--no-torch]
                                          [--one-thread] [--cpu-time]

``--cpu-time`` times each epoch by the CPU time of the process instead of the wall clock:
on a machine that other jobs keep busy, the wall clock counts their time slices too.
It is comparable only between single-threaded sides (the two-thread PyTorch run counts
both threads' time).

PyTorch is optional (``pip install torch==2.13.0``); without it only NumPy is timed.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rustgpt_format import Checkpoint, FeedForward, LayerNorm, OutputProjection, SelfAttention
from rustgpt_model import LLM, build_vocab, load_corpus
from rustgpt_model.train import Trainer

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "reference" / "rustgpt-data"
LR = 0.0005


def numpy_epoch(llm: LLM, sequences: Sequence[np.ndarray]) -> tuple[Callable[[], None], int]:
    """One training epoch of the NumPy model, and the peak bytes one step allocates."""
    trainer = Trainer(llm.checkpoint)
    longest = max(sequences, key=len)
    tracemalloc.start()
    trainer.step(longest, LR)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return lambda: trainer.epoch(sequences, LR), peak


def torch_epoch(
    checkpoint: Checkpoint, sequences: Sequence[np.ndarray], *, threads: int, fused: bool
) -> Callable[[], None]:
    """One training epoch of the same model, same start, in PyTorch eager on the CPU."""
    import torch

    model = TorchRustGPT(checkpoint)
    adam_parameters = [p for name, p in model.named_parameters() if name != "b_out"]
    optimizer = torch.optim.Adam(
        adam_parameters, lr=LR, betas=(0.9, 0.999), eps=1e-8, fused=fused or None
    )
    tensors = [torch.from_numpy(ids) for ids in sequences]

    def clip(grad: Any) -> Any:
        norm = grad.norm()
        return grad * (5.0 / norm) if norm > 5.0 else grad

    def epoch() -> None:
        torch.set_num_threads(threads)
        for ids in tensors:
            logits = model(ids[:-1])
            logits.register_hook(clip)
            loss = torch.nn.functional.cross_entropy(logits, ids[1:])
            optimizer.zero_grad(set_to_none=False)
            model.b_out.grad = None
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                model.b_out -= LR * model.b_out.grad

    return epoch


def best_epochs(
    runs: dict[str, Callable[[], None]], rounds: int, clock: Callable[[], float] = time.perf_counter
) -> dict[str, float]:
    """Seconds of each run's fastest epoch by ``clock``; one untimed warm-up epoch each first.

    The runs take turns, one epoch each per round, so that a change in the machine's
    load (other processes on the two cores) affects every side alike.
    """
    for run in runs.values():
        run()
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            began = clock()
            run()
            best[name] = min(best[name], clock() - began)
    return best


def TorchRustGPT(checkpoint: Checkpoint) -> Any:  # noqa: N802  (a class built on demand)
    """RustGPT as a torch Module, initialised with the checkpoint's arrays."""
    import torch
    from torch import nn

    def parameter(array: np.ndarray) -> nn.Parameter:
        return nn.Parameter(torch.from_numpy(array.copy()))

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            first, *middle, last = checkpoint.network
            self.token = parameter(first.token_embeddings)  # type: ignore[union-attr]
            self.position = parameter(first.positional_embeddings)  # type: ignore[union-attr]
            self.layers: list[tuple[str, list[nn.Parameter], float]] = []
            for index, layer in enumerate(middle):
                arrays = [parameter(a) for a in layer.parameters().values()]
                for name, p in zip(layer.parameters(), arrays, strict=True):
                    self.register_parameter(f"l{index}_{name}", p)
                epsilon = layer.epsilon if isinstance(layer, LayerNorm) else 0.0
                self.layers.append((layer.type, arrays, epsilon))
            assert isinstance(last, OutputProjection)
            self.w_out, self.b_out = parameter(last.w_out), parameter(last.b_out)
            self.d = checkpoint.config.embedding_dim

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x = self.token[ids] + self.position[: len(ids)]
            mask = torch.triu(torch.ones(len(ids), len(ids), dtype=torch.bool), 1)
            for kind, arrays, epsilon in self.layers:
                if kind == SelfAttention.__name__:
                    w_q, w_k, w_v = arrays
                    scores = (x @ w_q) @ (x @ w_k).T / math.sqrt(self.d)
                    weights = torch.softmax(scores.masked_fill(mask, -math.inf), dim=1)
                    x = weights @ (x @ w_v) + x
                elif kind == LayerNorm.__name__:
                    gamma, beta = arrays
                    centered = x - x.mean(dim=1, keepdim=True)
                    std = centered.pow(2).mean(dim=1, keepdim=True).sqrt()
                    x = centered / (std + epsilon) * gamma + beta
                elif kind == FeedForward.__name__:
                    w1, b1, w2, b2 = arrays
                    x = torch.relu(x @ w1 + b1) @ w2 + b2 + x
            return x @ self.w_out + self.b_out

    return Model()


def blas() -> str:
    """NumPy's BLAS and the kernels it runs: OPENBLAS_CORETYPE, where set, picks older ones."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS unknown (threadpoolctl not installed)"
    found = [
        f"{pool.get('internal_api')} {pool.get('version')} ({pool.get('architecture')} kernels)"
        for pool in threadpool_info()
        if pool.get("user_api") == "blas" and "numpy" in str(pool.get("filepath"))
    ]
    forced = {
        key: os.environ[key]
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        if key in os.environ
    }
    return ", ".join(found or ["BLAS unknown"]) + (f"; set: {forced}" if forced else "")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="RustGPT's corpus folder")
    parser.add_argument("--rounds", type=int, default=8, help="timed epochs per side (best counts)")
    parser.add_argument("--no-torch", action="store_true", help="time the NumPy model only")
    parser.add_argument(
        "--one-thread",
        action="store_true",
        help="leave out the PyTorch run on all threads (it crawls when other jobs hold the cores)",
    )
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time epochs by the process's CPU time, not the wall clock (for a busy machine)",
    )
    args = parser.parse_args(argv)

    texts = load_corpus(args.data / "pretraining_data.json")
    texts += load_corpus(args.data / "chat_training_data.json")
    llm = LLM.new(build_vocab(texts))
    start = llm.checkpoint.model_copy(deep=True)
    encoded = (llm.tokenize(text)[: start.config.max_seq_len + 1] for text in texts)
    sequences = [np.array(ids, np.intp) for ids in encoded if len(ids) >= 2]
    tokens = sum(len(ids) - 1 for ids in sequences)
    parameters = sum(a.size for layer in start.network for a in layer.parameters().values())
    print(
        f"corpus: {len(sequences)} sequences, {tokens} tokens per epoch; "
        f"vocabulary {len(start.vocab)}; {parameters:,} parameters; "
        f"best of {args.rounds} epochs after one warm-up, sides taking turns, "
        + ("CPU time" if args.cpu_time else "wall clock")
    )
    run, peak = numpy_epoch(llm, sequences)
    runs = {"numpy (fused Adam, 1 BLAS thread)": run}
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch: not installed, skipped (pip install torch==2.13.0)")
        else:
            sides = [(torch.get_num_threads(), False), (1, False), (1, True)]
            for threads, fused in sides[1:] if args.one_thread else sides:
                name = f"torch {torch.__version__} eager, {threads} thread(s), " + (
                    "fused Adam" if fused else "default Adam"
                )
                runs[name] = torch_epoch(start, sequences, threads=threads, fused=fused)
    clock = time.process_time if args.cpu_time else time.perf_counter
    best = best_epochs(runs, args.rounds, clock)
    rates = {name: tokens / seconds for name, seconds in best.items()}
    numpy_rate = next(iter(rates.values()))
    for name, rate in rates.items():
        ratio = "" if rate == numpy_rate else f"   numpy / this = {numpy_rate / rate:.2f}x"
        print(f"{rate:9,.0f} tokens/s  {name}{ratio}")
    print(f"numpy: peak memory allocated by one training step: {peak / 2**20:.2f} MiB")
    print(f"numpy: {blas()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
