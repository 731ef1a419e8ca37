"""How a fine-tuned model does: new sentences reproduced, old dialogues kept.

    python scripts/finetune_report.py BASE TUNED CORPUS [--chat CHAT] [--prompt-words N]

A sentence of CORPUS counts as reproduced when the model's greedy continuation of its
first N words (2 by default) is the rest of it, ``</s>`` included; a dialogue of CHAT
(the embedded chat corpus by default) when its ``Assistant:`` answer is (as ``rustgpt
eval``). Both models are measured, side by side.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from rustgpt_format import Checkpoint
from rustgpt_model import LLM, default_corpus, generate, load_corpus, reproduction
from rustgpt_model.tokenizer import encode, split_tokens


def sentences_reproduced(checkpoint: Checkpoint, texts: Sequence[str], words: int) -> int:
    """How many texts the greedy continuation of their first ``words`` tokens completes."""
    done = 0
    for text in texts:
        tokens = split_tokens(text)
        prompt, rest = " ".join(tokens[:words]), " ".join(tokens[words:])
        expected = encode(checkpoint.vocab, rest)
        if generate(checkpoint, encode(checkpoint.vocab, prompt)) == expected:
            done += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("tuned")
    parser.add_argument("corpus")
    parser.add_argument("--chat", help="dialogues (default: the embedded chat corpus)")
    parser.add_argument("--prompt-words", type=int, default=2)
    args = parser.parse_args()
    texts = load_corpus(args.corpus)
    chat = load_corpus(args.chat) if args.chat else default_corpus("chat")
    for name in (args.base, args.tuned):
        checkpoint = LLM.load(name).checkpoint
        new = sentences_reproduced(checkpoint, texts, args.prompt_words)
        old = reproduction(checkpoint, chat)
        print(
            f"{name}: {new} of {len(texts)} new sentences reproduced from their first "
            f"{args.prompt_words} words; {old.reproduced} of {old.dialogues} dialogues reproduced"
        )


if __name__ == "__main__":
    main()
