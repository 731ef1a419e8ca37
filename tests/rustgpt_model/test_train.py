import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import rustgpt_format as rf
from rustgpt_format import Checkpoint, OutputProjection, load
from rustgpt_model import LLM, Phase, TrainingError, TrainingWarning, build_vocab
from rustgpt_model.train import EpochReport, Trainer, corpus_sha256, run

SENTENCES = [
    "The cat sat on the mat </s>",
    "Dogs bark at the moon </s>",
    "Rain makes the grass green </s>",
    "Snow falls in winter </s>",
    "Birds sing in the morning </s>",
]
DIALOGUES = [
    "User: Who sat? Assistant: The cat sat </s>",
    "User: Who barks? Assistant: Dogs bark </s>",
]
VOCAB = build_vocab(SENTENCES + DIALOGUES)


def tiny(seed: int = 0) -> LLM:
    return LLM.new(VOCAB, embedding_dim=16, hidden_dim=32, max_seq_len=12, num_blocks=2, seed=seed)


def schedule(pretraining: int = 3, tuning: int = 3) -> list[Phase]:
    return [
        Phase("pretraining", SENTENCES, pretraining, 0.005),
        Phase("instruction_tuning", DIALOGUES, tuning, 0.002),
    ]


def test_a_tiny_model_learns_five_sentences() -> None:
    llm = tiny()
    losses = llm.train(SENTENCES, epochs=40, lr=0.01)
    assert len(losses) == 40
    assert losses[-1] < 0.05 < 1.5 < losses[0]
    for sentence in SENTENCES:
        first, *rest = sentence.split()
        assert llm.predict(first) == " ".join(rest[:-1])  # the continuation, without </s>


def test_same_seed_same_bytes() -> None:
    assert rf.dumps(tiny(seed=3).checkpoint) == rf.dumps(tiny(seed=3).checkpoint)
    assert rf.dumps(tiny(seed=3).checkpoint) != rf.dumps(tiny(seed=4).checkpoint)
    first, second = tiny(), tiny()
    first.fit(schedule())
    second.fit(schedule())
    assert rf.dumps(first.checkpoint) == rf.dumps(second.checkpoint)


@pytest.mark.parametrize(
    "stop",
    [
        1,  # within pre-training
        3,  # exactly at the boundary
        4,  # within instruction tuning, after the switch
    ],
)
def test_resumption_is_exact(stop: int) -> None:
    whole = tiny()
    whole.fit(schedule())
    part = tiny()
    part.fit(schedule(), max_epochs=stop)
    saved = rf.dumps(part.checkpoint)
    assert rf.loads(saved).training.epochs_completed == stop
    resumed = LLM.from_checkpoint(rf.loads(saved))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a complete checkpoint resumes without a warning
        resumed.fit(schedule())
    assert rf.dumps(resumed.checkpoint) == rf.dumps(whole.checkpoint)


@pytest.mark.parametrize("suffix", [".json", ".json.gz", ".safetensors"])
def test_resumption_from_a_file_of_each_form_is_exact(suffix: str, tmp_path: Path) -> None:
    """The safetensors reader gives arrays that are views of one buffer: training goes on."""
    whole = tiny()
    whole.fit(schedule())
    part = tiny()
    part.fit(schedule(), max_epochs=4)
    target = tmp_path / f"model{suffix}"
    rf.save(part.checkpoint, target)
    resumed = LLM.from_checkpoint(load(target))
    resumed.fit(schedule())
    assert rf.dumps(resumed.checkpoint) == rf.dumps(whole.checkpoint)


def test_the_training_block_records_the_schedule() -> None:
    llm = tiny(seed=9)
    llm.fit(schedule(2, 1))
    state = llm.checkpoint.training
    assert [(p.name, p.epochs, p.learning_rate, p.corpus_sha256) for p in state.schedule] == [
        ("pretraining", 2, 0.005, corpus_sha256(SENTENCES)),
        ("instruction_tuning", 1, 0.002, corpus_sha256(DIALOGUES)),
    ]
    assert (state.epochs_completed, state.steps_completed, state.seed) == (3, 5 + 5 + 2, 9)
    assert len(state.loss_history) == 3


def test_train_appends_a_phase_after_a_finished_schedule() -> None:
    llm = tiny()
    llm.fit(schedule(1, 1))
    losses = llm.train(DIALOGUES, epochs=2, lr=0.001, name="extra")
    assert llm.checkpoint.training.loss_history[-2:] == losses
    assert [p.name for p in llm.checkpoint.training.schedule] == [
        "pretraining",
        "instruction_tuning",
        "extra",
    ]


def without_optimizers(ckpt: Checkpoint) -> Checkpoint:
    for layer in ckpt.network:
        for name in layer.OPTIMIZERS:
            setattr(layer, name, None)
    return rf.loads(rf.dumps(ckpt))


def test_resuming_an_inference_only_checkpoint_warns_and_starts_adam_afresh() -> None:
    llm = tiny()
    llm.fit(schedule(), max_epochs=2)
    resumed = LLM.from_checkpoint(without_optimizers(llm.checkpoint))
    with pytest.warns(TrainingWarning) as caught:
        resumed.fit(schedule())
    assert [str(w.message) for w in caught] == [
        "the checkpoint has no optimizer state for 25 of 25 parameters (inference only, e.g. "
        "network[0].token_optimizer): Adam starts afresh for them"
    ]
    assert (
        resumed.checkpoint.network[1].optimizer_w_q.timestep == 1 * 5 + 3 * 2
    )  # fresh from epoch 3: 5 steps, then 3 x 2


@pytest.mark.skipif(
    "MUTANT_UNDER_TEST" in os.environ,
    reason="mutmut's trampolines put a frame of mutmut's own between the package's frames",
)
def test_the_fresh_state_warning_points_at_the_line_that_called_the_model() -> None:
    # the warning is raised in Trainer.__init__, under LLM._ensure_trainer, under
    # LLM.fit/train/fine_tune (three frames up), or straight under the caller's Trainer()
    for method, call in [
        ("fit", lambda llm: llm.fit(schedule(), max_epochs=1)),
        ("train", lambda llm: llm.train(SENTENCES, epochs=1)),
        ("fine_tune", lambda llm: llm.fine_tune(schedule(1, 1))),
        ("Trainer", lambda llm: Trainer(llm.checkpoint)),
    ]:
        llm = LLM.from_checkpoint(without_optimizers(tiny().checkpoint))
        with pytest.warns(TrainingWarning) as caught:
            call(llm)
        assert [(w.filename, w.lineno) for w in caught] == [
            (__file__, call.__code__.co_firstlineno)
        ], method


# (change to the schedule, error), each against a checkpoint trained 2 epochs of schedule()
MISMATCHES = [
    (
        [Phase("pretraining", SENTENCES[:4], 3, 0.005)],
        "training.schedule[0].corpus_sha256: the checkpoint has "
        f"'{corpus_sha256(SENTENCES)}', found '{corpus_sha256(SENTENCES[:4])}' "
        "(train on the corpus the checkpoint was trained on)",
    ),
    (
        [Phase("pretraining", SENTENCES, 3, 0.01)],
        "training.schedule[0].learning_rate: the checkpoint has 0.005, found 0.01",
    ),
    (
        [Phase("pretraining", SENTENCES, 3, 0.005)],
        "training.schedule: the checkpoint has 2 phases, found 1",
    ),
]


@pytest.mark.parametrize(("phases", "message"), MISMATCHES)
def test_a_schedule_that_does_not_continue_the_checkpoint_is_refused(
    phases: list[Phase], message: str
) -> None:
    llm = tiny()
    llm.fit(schedule(), max_epochs=2)
    with pytest.raises(TrainingError) as caught:
        llm.fit(phases)
    assert str(caught.value) == message


def test_train_refuses_an_unfinished_schedule() -> None:
    llm = tiny()
    llm.fit(schedule(), max_epochs=2)
    with pytest.raises(TrainingError) as caught:
        llm.train(SENTENCES, epochs=1)
    assert str(caught.value) == (
        "training: the checkpoint's schedule has 4 epochs left; finish it with fit(phases) first"
    )


def test_b_out_moves_by_plain_gradient_descent_with_the_summed_gradient() -> None:
    llm = tiny()
    trainer = Trainer(llm.checkpoint)
    output = llm.checkpoint.network[-1]
    assert isinstance(output, OutputProjection)
    ids = np.array(llm.tokenize(SENTENCES[0]))
    logits = llm.logits(ids[:-1]).astype(np.float64)
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    expected_loss = -np.log(probabilities[np.arange(len(ids) - 1), ids[1:]]).mean()
    probabilities[np.arange(len(ids) - 1), ids[1:]] -= 1
    expected = output.b_out - 0.01 * (probabilities / (len(ids) - 1)).sum(axis=0)  # sum, not mean
    loss = trainer.step(ids, 0.01)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    np.testing.assert_allclose(output.b_out, expected, rtol=1e-5, atol=1e-9)


def test_a_long_text_trains_on_its_first_l_plus_1_tokens() -> None:
    """L positions are predicted: tokens 0..L-1 are the input, tokens 1..L the targets."""
    text = " ".join(["The cat sat on the mat"] * 4) + " </s>"
    ids = tiny().tokenize(text)
    L = tiny().checkpoint.config.max_seq_len
    assert len(ids) > L + 2
    [sequence] = Trainer(tiny().checkpoint).sequences([text, "cat"])  # one token: no target
    assert sequence.tolist() == ids[: L + 1]

    trained, stepped = tiny(), tiny()
    losses = trained.train([text], epochs=1, lr=0.01)
    loss = Trainer(stepped.checkpoint).step(np.array(ids[: L + 1]), 0.01)
    assert losses == [loss]
    shorter = tiny()
    Trainer(shorter.checkpoint).step(np.array(ids[:L]), 0.01)  # L tokens: one target fewer
    for llm in (trained, stepped, shorter):
        llm.checkpoint.training = None  # the record of the run, compared elsewhere
    assert trained.checkpoint == stepped.checkpoint
    assert shorter.checkpoint != stepped.checkpoint


def test_each_epoch_is_reported_with_its_phase_loss_and_tokens() -> None:
    llm = tiny()
    reports: list[EpochReport] = []
    llm.fit(schedule(pretraining=2, tuning=1), on_epoch=reports.append)
    state = llm.checkpoint.training
    assert state is not None
    assert [(r.phase, r.epoch, r.total_epochs) for r in reports] == [
        ("pretraining", 1, 3),
        ("pretraining", 2, 3),
        ("instruction_tuning", 3, 3),
    ]
    assert [r.loss for r in reports] == state.loss_history
    tokens = {
        "pretraining": sum(len(llm.tokenize(t)) - 1 for t in SENTENCES),
        "instruction_tuning": sum(len(llm.tokenize(t)) - 1 for t in DIALOGUES),
    }
    assert [r.tokens for r in reports] == [tokens[r.phase] for r in reports]
    assert all(isinstance(r.seconds, float) and 0 <= r.seconds < 60 for r in reports)


def test_a_text_of_two_tokens_is_one_training_step_and_one_token_none() -> None:
    trainer = Trainer(tiny().checkpoint)
    sequences = trainer.sequences(["cat sat", "cat", "", "The cat sat"])
    assert [len(ids) for ids in sequences] == [2, 3]
    assert all(ids.dtype == np.intp for ids in sequences)
    assert trainer.epoch([], 0.01) == 0.0  # no sequence: no loss, no step


def test_a_partly_inference_only_checkpoint_names_how_many_states_are_fresh() -> None:
    llm = tiny()
    llm.checkpoint.network[1].optimizer_w_k = None
    llm.checkpoint.network[-1].optimizer = None
    with pytest.warns(TrainingWarning) as caught:
        llm.fit(schedule(), max_epochs=1)
    assert [str(w.message) for w in caught] == [
        "the checkpoint has no optimizer state for 2 of 25 parameters (inference only, e.g. "
        "network[1].optimizer_w_k): Adam starts afresh for them"
    ]


def test_a_phase_without_its_corpus_is_named() -> None:
    llm = tiny()
    llm.fit(schedule(), max_epochs=3)  # pre-training done: the next epoch is instruction tuning
    with pytest.raises(TrainingError) as caught:
        run(Trainer(llm.checkpoint), {0: SENTENCES})
    assert str(caught.value) == "training.schedule[1]: no corpus given for 'instruction_tuning'"
