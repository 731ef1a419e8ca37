"""The model: a checkpoint you can run, train, save and load."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

import rustgpt_format
from rustgpt_format import END_OF_SEQUENCE, Checkpoint
from rustgpt_format.edit import extend_vocab
from rustgpt_format.models import TrainingState, select_layers
from rustgpt_format.models.parts import LayerSelector
from rustgpt_model import network
from rustgpt_model import train as training
from rustgpt_model.generate import generate
from rustgpt_model.init import new_checkpoint, vocab_init
from rustgpt_model.ops import Array
from rustgpt_model.threads import single_blas_thread
from rustgpt_model.tokenizer import decode, encode


class LLM:
    """RustGPT computing on a :class:`rustgpt_format.Checkpoint`: its arrays are the model.

    >>> llm = LLM.new(["hi", "there", "</s>"], embedding_dim=8, hidden_dim=16, num_blocks=1)
    >>> llm.tokenize("hi there stranger </s>")
    [0, 1, 2]
    >>> llm.logits([0, 1]).shape
    (2, 3)
    """

    def __init__(self, checkpoint: Checkpoint) -> None:
        self._checkpoint = checkpoint
        self._trainer: training.Trainer | None = None
        self._frozen: tuple[int, ...] = ()

    @classmethod
    def new(
        cls,
        vocab_words: Sequence[str],
        *,
        embedding_dim: int = 128,
        hidden_dim: int = 256,
        max_seq_len: int = 80,
        num_blocks: int = 3,
        seed: int = 0,
    ) -> LLM:
        """A freshly initialised model (RustGPT's sizes by default); same seed, same bytes."""
        checkpoint = new_checkpoint(
            vocab_words,
            embedding_dim=embedding_dim,
            hidden_dim=hidden_dim,
            max_seq_len=max_seq_len,
            num_blocks=num_blocks,
            seed=seed,
        )
        training.start(checkpoint, seed=seed)
        return cls(checkpoint)

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint) -> LLM:
        """The model whose state is ``checkpoint`` (not a copy: training changes it)."""
        return cls(checkpoint)

    @classmethod
    def load(cls, path: str | Path) -> LLM:
        """The model in the checkpoint file at ``path`` (any form; CheckpointError if invalid)."""
        return cls(rustgpt_format.load(path))

    @property
    def checkpoint(self) -> Checkpoint:
        """The model's state: parameters, vocabulary, Adam moments, training block."""
        return self._checkpoint

    def save(self, path: str | Path, *, indent: int | None = None) -> None:
        """Write the checkpoint to ``path`` atomically."""
        rustgpt_format.save(self._checkpoint, path, indent=indent)

    def tokenize(self, text: str) -> list[int]:
        """The token ids of ``text`` (RustGPT's tokenizer; unknown words are skipped)."""
        return encode(self._checkpoint.vocab, text)

    def logits(self, token_ids: Sequence[int]) -> Array:
        """The next-token logits (T, V) at every position of ``token_ids`` (1 ≤ T ≤ L)."""
        ids = np.asarray(token_ids, np.intp)
        config = self._checkpoint.config
        if ids.ndim != 1 or not 1 <= len(ids) <= config.max_seq_len:
            raise ValueError(
                f"token_ids: expected 1 to {config.max_seq_len} ids, found shape {ids.shape}"
            )
        if ids.min() < 0 or ids.max() >= config.vocab_size:
            raise ValueError(
                f"token_ids: expected ids in [0, {config.vocab_size}), found {int(ids.min())} "
                f"to {int(ids.max())}"
            )
        with single_blas_thread():
            logits, _ = network.forward(self._checkpoint.network, ids)
        return logits

    def predict(
        self,
        text: str,
        *,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
    ) -> str:
        """The continuation of ``text`` (without the prompt and without ``</s>``).

        Greedy by default; see :func:`rustgpt_model.generate.generate` for sampling.
        """
        produced = generate(
            self._checkpoint,
            self.tokenize(text),
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            seed=seed,
        )
        end = self._checkpoint.vocab.encode(END_OF_SEQUENCE)
        if produced and produced[-1] == end:
            produced.pop()
        return decode(self._checkpoint.vocab, produced)

    def train(
        self,
        texts: Sequence[str],
        *,
        epochs: int = 100,
        lr: float = 0.0005,
        name: str = "training",
        on_epoch: training.ProgressCallback | None = None,
    ) -> list[float]:
        """Train a new phase of ``epochs`` over ``texts``; return its epoch losses.

        The phase is appended to the checkpoint's schedule. A schedule left unfinished
        (by :meth:`fit` with ``max_epochs``) must be finished with :meth:`fit` first.
        """
        state = self._finished_schedule()
        state.schedule.append(training.Phase(name, texts, epochs, lr).describe())
        before = state.epochs_completed
        training.run(self._ensure_trainer(), {len(state.schedule) - 1: texts}, on_epoch=on_epoch)
        return state.loss_history[before:]

    def _finished_schedule(self) -> TrainingState:
        """The training block, refusing to add phases while recorded epochs remain."""
        state = training.start(self._checkpoint)
        remaining = sum(phase.epochs for phase in state.schedule) - state.epochs_completed
        if remaining:
            raise training.TrainingError(
                f"training: the checkpoint's schedule has {remaining} epochs left; "
                "finish it with fit(phases) first"
            )
        return state

    def fit(
        self,
        phases: Sequence[training.Phase],
        *,
        max_epochs: int | None = None,
        on_epoch: training.ProgressCallback | None = None,
    ) -> None:
        """Run the schedule ``phases`` from where the checkpoint's training block stands.

        The first phases must be those recorded in the checkpoint (same names, epochs,
        learning rates and corpora); ``max_epochs`` stops after that many epochs, and a
        later call with the same phases (on a reloaded checkpoint too) carries on to
        the bit as if training had never stopped.
        """
        state = training.start(self._checkpoint)
        training.extend(state, phases)
        corpora = {index: phase.texts for index, phase in enumerate(phases)}
        training.run(self._ensure_trainer(), corpora, max_epochs=max_epochs, on_epoch=on_epoch)

    def fine_tune(
        self,
        phases: Sequence[training.Phase],
        *,
        on_epoch: training.ProgressCallback | None = None,
    ) -> None:
        """Train ``phases`` as new phases after the checkpoint's schedule, which must be done.

        The phases are appended to ``training.schedule`` (a checkpoint without a training
        block, such as one RustGPT wrote, gets one); only their corpora are needed, not
        those the checkpoint was trained on. Layers :meth:`freeze` names stay as they are.
        """
        state = self._finished_schedule()
        first = len(state.schedule)
        state.schedule.extend(phase.describe() for phase in phases)
        corpora = {first + index: phase.texts for index, phase in enumerate(phases)}
        training.run(self._ensure_trainer(), corpora, on_epoch=on_epoch)

    def extend_vocab(self, words: Iterable[str], *, seed: int = 0) -> list[str]:
        """Append the words the vocabulary lacks (in order, each once); return them.

        No word changes its id (``</s>`` keeps its own); ``token_embeddings`` gains a
        row and ``w_out`` and ``b_out`` a column per word, drawn as a new model draws
        them (:func:`rustgpt_model.init.vocab_init`, seeded), with zero Adam moments.
        Every logit of an old word, for a prompt of old words, keeps its bits. The
        model then holds a new checkpoint (see :func:`rustgpt_format.edit.extend_vocab`).

        >>> llm = LLM.new(["hi", "</s>"], embedding_dim=8, hidden_dim=16, num_blocks=1)
        >>> llm.extend_vocab(["hi", "moon", "moon"]), llm.tokenize("hi moon </s>")
        (['moon'], [0, 2, 1])
        """
        before = len(self._checkpoint.vocab)
        init = vocab_init(self._checkpoint.config.embedding_dim, seed=seed)
        self._checkpoint = extend_vocab(self._checkpoint, words, init=init)
        self._trainer = None  # bound to the old arrays
        return list(self._checkpoint.vocab.words[before:])

    def freeze(self, layers: Iterable[LayerSelector]) -> tuple[int, ...]:
        """Train only the other layers from now on; return the frozen indices.

        ``layers`` are indices, kinds (``embeddings``, ``SelfAttention``, ...) or
        ``blocks`` (see :func:`rustgpt_format.models.select_layers`); ``[]`` unfreezes.
        A frozen layer's parameters and Adam moments keep their bits through training.

        >>> llm = LLM.new(["hi", "</s>"], embedding_dim=8, hidden_dim=16, num_blocks=1)
        >>> llm.freeze(["embeddings", "output_projection"])
        (0, 5)
        """
        types = [layer.type for layer in self._checkpoint.network]
        self._frozen = select_layers(types, layers)
        self._trainer = None
        return self._frozen

    @property
    def frozen(self) -> tuple[int, ...]:
        """The indices of the layers :meth:`freeze` named (none by default)."""
        return self._frozen

    def _ensure_trainer(self) -> training.Trainer:
        if self._trainer is None:
            self._trainer = training.Trainer(self._checkpoint, frozen=self._frozen)
        return self._trainer
