"""How closely rustgpt_model follows the real RustGPT: the figures behind the oracle tests.

    python scripts/oracle_figures.py     # a few seconds; needs the oracle (tests/oracle.py)

Prints Markdown: for RustGPT's untrained and one-epoch network and a model trained
here, the largest logit difference against RustGPT relative to the largest |logit|
(the tests allow 1e-5), and the smallest gap between the two largest logits (what
an argmax could trip on); then, for one training step from the same saved state, how
far the gradient RustGPT used (recovered from its Adam moment) is from a float64 model
of its backward and from the true gradient this package computes, per parameter.
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rustgpt_format as rf
from rustgpt_model import LLM, build_vocab
from tests.oracle import DATA, Oracle, find_oracle
from tests.rustgpt_model.rustgpt_gradients import gradients

PRETRAINING: list[str] = json.loads((DATA / "pretraining_data.json").read_text())
PROMPTS = ["The sun rises in the", "Water flows downhill", "User: How do mountains form?"]
LR = 0.001


def load(path: Path) -> rf.Checkpoint:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rf.FormatWarning)
        return rf.load(path)


def logits_rows(oracle: Oracle, models: dict[str, Path]) -> None:
    print("| model | prompt | tokens | max abs diff / max abs logit | smallest top-2 gap |")
    print("|---|---|---:|---:|---:|")
    for name, path in models.items():
        llm = LLM(load(path))
        for prompt in PROMPTS:
            found = json.loads(oracle.run("logits", path, prompt, "--all", "--json"))
            theirs = np.array(found["logit_bits"], np.uint32).view(np.float32)
            ours = llm.logits(found["tokens"])
            ratio = np.abs(ours - theirs).max() / np.abs(theirs).max()
            top = np.sort(theirs, axis=1)[:, -2:]
            gap = (top[:, 1] - top[:, 0]).min()
            print(f"| {name} | {prompt} | {len(found['tokens'])} | {ratio:.1e} | {gap:.3g} |")


def gradient_rows(oracle: Oracle, start: Path, folder: Path) -> None:
    text = PRETRAINING[3]
    corpus = folder / "one.json"
    corpus.write_text(json.dumps([text]))
    stepped = folder / "stepped.json"
    oracle.run(
        "train", start, stepped, "--epochs", "1", "--lr", str(LR), "--clip", "none",
        "--corpus", corpus, "--compact",
    )  # fmt: skip
    before, after = load(start), load(stepped)
    token_ids = np.array(LLM(before).tokenize(text))
    model = gradients(before.network, token_ids, rustgpt=True)
    true = gradients(before.network, token_ids, rustgpt=False)
    print("\n| parameter | vs float64 model of RustGPT's backward | vs the true gradient |")
    print("|---|---:|---:|")
    for index, (old, new) in enumerate(zip(before.network, after.network, strict=True)):
        for optimizer, name in old.OPTIMIZERS.items():
            state_before, state = getattr(old, optimizer), getattr(new, optimizer)
            beta1 = float(np.float32(state.beta1))
            used = (state.m.astype(np.float64) - beta1 * state_before.m) / (1 - beta1)

            def relative(reference: np.ndarray, used: np.ndarray = used) -> float:
                return float(np.linalg.norm(used - reference) / np.linalg.norm(reference))

            rows = (relative(model[index, name]), relative(true[index, name]))
            print(f"| network[{index}].{name} ({old.type}) | {rows[0]:.1e} | {rows[1]:.1e} |")


def main() -> None:
    oracle = find_oracle()
    if oracle is None:
        sys.exit("RUSTGPT_NO_ORACLE is set: nothing to compare against")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        untrained, trained = folder / "untrained.json", folder / "trained.json"
        oracle.run("new", untrained, "11", "--compact")
        oracle.run("new", trained, "11", "--epochs", "1", "--compact")
        llm = LLM.new(
            build_vocab(PRETRAINING), embedding_dim=16, hidden_dim=32, max_seq_len=80, num_blocks=1
        )
        llm.train(PRETRAINING, epochs=2, lr=LR)
        ours = folder / "ours.json"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rf.FormatWarning)
            rf.save(llm.checkpoint, ours, dialect="rustgpt")
        logits_rows(
            oracle,
            {"RustGPT, untrained": untrained, "RustGPT, 1 epoch": trained, "ours, 2 epochs": ours},
        )
        gradient_rows(oracle, ours, folder)


if __name__ == "__main__":
    main()
