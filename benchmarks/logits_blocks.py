"""What the V-independent logits cost: training and generation, blocked vs one product.

``rustgpt_model.layers.output`` computes the logits in blocks of 64 columns so that a
word's logit keeps its bits when the vocabulary grows (issue 16). This times a training
epoch and a greedy generation of the default model (d = 128, h = 256, three blocks) on
RustGPT's corpus with that projection and with the plain ``x @ w_out`` it replaced,
alternating the two in the same process (CPU time, one BLAS thread), and prints the
best of each and their ratio.

    python benchmarks/logits_blocks.py [--rounds N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from rustgpt_model import LLM, build_vocab, load_corpus
from rustgpt_model.layers import output
from rustgpt_model.ops import Array
from rustgpt_model.train import Trainer

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "rustgpt-data"


def plain(x: Array, w_out: Array) -> Array:
    logits: Array = x @ w_out  # (T, V): the product before issue 16
    return logits


def best(
    run: Callable[[], object], rounds: int, projection: Callable[[Array, Array], Array]
) -> float:
    blocked = output._project
    output._project = projection  # type: ignore[assignment]
    try:
        times = []
        for _ in range(rounds):
            began = time.process_time()
            run()
            times.append(time.process_time() - began)
        return min(times)
    finally:
        output._project = blocked  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    texts = load_corpus(DATA / "pretraining_data.json") + load_corpus(
        DATA / "chat_training_data.json"
    )
    llm = LLM.new(build_vocab(texts))
    trainer = Trainer(llm.checkpoint)
    sequences = trainer.sequences(texts)
    prompts = [text.split("Assistant:")[0] for text in texts[-40:]]
    jobs = {
        "training epoch": lambda: trainer.epoch(sequences, 0.0005),
        "greedy answers to 40 prompts": lambda: [llm.predict(p) for p in prompts],
    }
    for name, job in jobs.items():
        job()  # warm-up
        results = {"one product": [], "blocks of 64": []}
        for _ in range(args.rounds):  # alternate, so that load from others hits both alike
            results["one product"].append(best(job, 1, plain))
            results["blocks of 64"].append(best(job, 1, output._project))
        base, blocks = min(results["one product"]), min(results["blocks of 64"])
        print(
            f"{name}: one product {base:.3f} s, blocks of 64 {blocks:.3f} s, "
            f"ratio {blocks / base:.3f}"
        )


if __name__ == "__main__":
    main()
