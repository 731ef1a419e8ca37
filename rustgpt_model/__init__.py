"""RustGPT in NumPy, computing on the checkpoint format's own objects."""

from rustgpt_model.corpus import CorpusError, default_corpus, load_corpus
from rustgpt_model.evaluate import Perplexity, Reproduction, perplexity, reproduction
from rustgpt_model.generate import generate
from rustgpt_model.llm import LLM
from rustgpt_model.tokenizer import build_vocab, split_tokens
from rustgpt_model.train import EpochReport, Phase, TrainingError, TrainingWarning

__all__ = [
    "LLM",
    "CorpusError",
    "EpochReport",
    "Perplexity",
    "Phase",
    "Reproduction",
    "TrainingError",
    "TrainingWarning",
    "build_vocab",
    "default_corpus",
    "generate",
    "load_corpus",
    "perplexity",
    "reproduction",
    "split_tokens",
]
