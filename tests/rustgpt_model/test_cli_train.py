"""``rustgpt train``: resuming, output paths, progress, periodic saves, the loss plot (issue 10)."""

import io
import re
import shutil
import tempfile
from pathlib import Path

import orjson
import pytest

from rustgpt_format import load
from rustgpt_model import LLM
from tests.rustgpt_model.cli_run import TINY, Terminal, rustgpt

SENTENCES = ["The cat sat on the mat </s>", "Dogs bark at the moon </s>", "Snow is cold </s>"]
DIALOGUES = ["User: Who sat? Assistant: The cat sat </s>", "User: Who barks? Assistant: Dogs </s>"]


def corpora(folder: Path) -> tuple[Path, Path]:
    """Two small corpus files (fast epochs), not the embedded ones."""
    (folder / "facts.json").write_bytes(orjson.dumps(SENTENCES))
    (folder / "chat.json").write_bytes(orjson.dumps(DIALOGUES))
    return folder / "facts.json", folder / "chat.json"


@pytest.fixture(scope="module")
def part(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint 3 epochs into a 2 + 2 schedule on the embedded corpora."""
    folder = tmp_path_factory.mktemp("resume")
    schedule = ["--epochs", "2", "--chat-epochs", "2", *TINY, "--quiet"]
    assert rustgpt("train", *schedule, "--out", folder / "whole.json")[0] == 0
    code, _, err = rustgpt("train", *schedule, "--max-epochs", "3", "--out", folder / "part.json")
    assert (code, err) == (0, "")
    return folder / "part.json"


def test_resume_without_schedule_flags_continues_the_stored_schedule(part: Path) -> None:
    rest = part.with_name("rest.json")
    code, out, err = rustgpt("train", "--resume", part, "--out", rest, "--quiet")
    assert (code, err) == (0, "")
    assert out.startswith("trained 1 epochs in ") and "; epoch 4 of 4\n" in out
    assert rest.read_bytes() == part.with_name("whole.json").read_bytes()


def test_resume_with_the_stored_values_given_again(part: Path) -> None:
    flags = ["--epochs", "2", "--chat-epochs", "2", "--lr", "0.0005", "--chat-lr", "0.0001"]
    rest = part.with_name("again.json")
    code, _, err = rustgpt("train", *flags, "--resume", part, "--out", rest, "--quiet")
    assert (code, err) == (0, "")
    assert rest.read_bytes() == part.with_name("whole.json").read_bytes()


# (flags given with --resume, the error: the flag, its value, the stored value, the place)
CONFLICTS = [
    (
        ["--epochs", "5"],
        "--epochs 5 conflicts with the checkpoint: the schedule of {part} has 2 epochs of "
        "pre-training (training.schedule[0].epochs); leave out --epochs to continue it",
    ),
    (
        ["--chat-epochs", "100"],  # the old unstated default
        "--chat-epochs 100 conflicts with the checkpoint: the schedule of {part} has 2 epochs "
        "of instruction tuning (training.schedule[1].epochs); leave out --chat-epochs to "
        "continue it",
    ),
    (
        ["--lr", "0.001"],
        "--lr 0.001 conflicts with the checkpoint: the schedule of {part} has a learning rate "
        "of 0.0005 for pre-training (training.schedule[0].learning_rate); leave out --lr to "
        "continue it",
    ),
    (
        ["--chat-lr", "0.0002"],
        "--chat-lr 0.0002 conflicts with the checkpoint: the schedule of {part} has a "
        "learning rate of 0.0001 for instruction tuning (training.schedule[1].learning_rate); "
        "leave out --chat-lr to continue it",
    ),
    (
        ["--corpus", "{folder}/facts.json"],
        "--corpus {folder}/facts.json conflicts with the checkpoint: the schedule of {part} "
        "has another pre-training corpus (training.schedule[0].corpus_sha256 is "
        "{stored}…, the file's {found}…)",
    ),
]


@pytest.mark.parametrize(("flags", "message"), CONFLICTS)
def test_a_flag_conflicting_with_the_checkpoint_names_both_values(
    part: Path, tmp_path: Path, flags: list[str], message: str
) -> None:
    corpora(tmp_path)
    ckpt = load(part)
    assert ckpt.training is not None
    fields = {
        "part": part,
        "folder": tmp_path,
        "stored": ckpt.training.schedule[0].corpus_sha256[:12],
        "found": _sha256_of(tmp_path / "facts.json")[:12],
    }
    argv = [flag.format(**fields) for flag in flags]
    code, out, err = rustgpt("train", *argv, "--resume", part, "--out", tmp_path / "x.json")
    assert (code, out) == (1, "")
    assert err == f"rustgpt: error: {message.format(**fields)}\n"
    assert not (tmp_path / "x.json").exists()


def _sha256_of(corpus: Path) -> str:
    from rustgpt_model.train import corpus_sha256

    texts: list[str] = orjson.loads(corpus.read_bytes())
    return corpus_sha256(texts)


def test_resume_of_a_run_on_other_corpora_asks_for_them(tmp_path: Path) -> None:
    facts, chat = corpora(tmp_path)
    given = ["--corpus", facts, "--chat-corpus", chat, *TINY, "--quiet"]
    part, whole = tmp_path / "part.json", tmp_path / "whole.json"
    schedule = ["--epochs", "3", "--chat-epochs", "2"]
    assert rustgpt("train", *schedule, *given, "--out", whole)[0] == 0
    assert rustgpt("train", *schedule, *given, "--max-epochs", "4", "--out", part)[0] == 0
    ckpt = load(part)
    assert ckpt.training is not None
    code, out, err = rustgpt("train", "--resume", part, "--out", tmp_path / "x.json")
    assert (code, out) == (1, "")
    assert err == (
        f"rustgpt: error: {part} was not trained on the embedded pretraining.json for "
        f"pre-training (training.schedule[0].corpus_sha256 is "
        f"{ckpt.training.schedule[0].corpus_sha256[:12]}…): give its corpus with --corpus FILE\n"
    )
    code, out, err = rustgpt(
        "train", "--resume", part, "--corpus", facts, "--chat-corpus", chat, "--out", part
    )
    assert (code, err) == (0, "")
    assert part.read_bytes() == whole.read_bytes()


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training that fails the test if it starts: the checks must come first."""

    def fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("training started before the output paths were checked")

    monkeypatch.setattr(LLM, "fit", fit)


# (arguments after 'train', the error); {tmp} is a temporary folder holding a file 'file'
TARGETS = [
    (
        ["--out", "{tmp}/none/m.json"],
        "--out {tmp}/none/m.json: the folder {tmp}/none does not exist",
    ),
    (["--out", "{tmp}"], "--out {tmp}: expected a file name, found a folder"),
    (["--out", "{tmp}/file/m.json"], "--out {tmp}/file/m.json: {tmp}/file is not a folder"),
    (  # --save-every writes to --out: refused as early
        ["--out", "{tmp}/none/m.json", "--save-every", "1"],
        "--out {tmp}/none/m.json: the folder {tmp}/none does not exist",
    ),
    (
        ["--out", "{tmp}/m.json", "--plot", "{tmp}/none/loss.png"],
        "--plot {tmp}/none/loss.png: the folder {tmp}/none does not exist",
    ),
    (
        ["--out", "{tmp}/m.json", "--plot", "{tmp}/loss.xyz"],
        "--plot {tmp}/loss.xyz: expected an image extension ({kinds}), found .xyz",
    ),
    (
        ["--out", "{tmp}/m.json", "--plot", "{tmp}/m.json"],
        "--plot {tmp}/m.json: the same file as --out",
    ),
]


@pytest.mark.parametrize(("argv", "message"), TARGETS)
@pytest.mark.usefixtures("no_training")
def test_output_paths_are_checked_before_the_first_step(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    from matplotlib.figure import Figure

    kinds = ", ".join(sorted(Figure().canvas.get_supported_filetypes()))  # png, svg, pdf, ...
    (tmp_path / "file").write_text("")
    argv = [a.format(tmp=tmp_path) for a in argv]
    code, out, err = rustgpt("train", *TINY, *argv)
    assert (code, out, err) == (
        1,
        "",
        f"rustgpt: error: {message.format(tmp=tmp_path, kinds=kinds)}\n",
    )


def _folder_removed_during_training(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    real_fit = LLM.fit

    def fit(self: LLM, *args: object, **kwargs: object) -> None:
        real_fit(self, *args, **kwargs)  # type: ignore[arg-type]
        shutil.rmtree(folder)  # as if removed (or its disk lost) while training ran

    monkeypatch.setattr(LLM, "fit", fit)


def test_a_failed_final_save_leaves_the_model_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    _folder_removed_during_training(monkeypatch, tmp_path / "out")
    code, out, err = rustgpt(
        "train", "--epochs", "1", "--chat-epochs", "1", *TINY, "--out", tmp_path / "out/m.json"
    )
    (rescued,) = (tmp_path / "here").iterdir()
    assert (code, out) == (1, "")
    assert err.startswith("rustgpt: error: ")
    assert err.endswith(
        f"cannot write {tmp_path / 'out/m.json'}: No such file or directory; "
        f"the trained model was saved to {rescued} instead\n"
    )
    assert re.fullmatch(r"rustgpt-rescued-\d+\.json", rescued.name)
    training = load(rescued).training
    assert training is not None and training.epochs_completed == 2


def test_a_failed_final_save_falls_back_to_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("out", "gone", "temp"):
        (tmp_path / name).mkdir()
    monkeypatch.chdir(tmp_path / "gone")
    (tmp_path / "gone").rmdir()  # the current folder is no more: no rescue there
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    _folder_removed_during_training(monkeypatch, tmp_path / "out")
    code, out, err = rustgpt(
        "train", "--epochs", "1", "--chat-epochs", "1", *TINY, "--out", tmp_path / "out/m.gz"
    )
    (rescued,) = (tmp_path / "temp").iterdir()
    assert (code, out) == (1, "")
    assert err.endswith(
        f"cannot write {tmp_path / 'out/m.gz'}: No such file or directory; "
        f"the trained model was saved to {rescued} instead\n"
    )
    assert rescued.name.endswith(".gz")
    assert load(rescued).training is not None


def test_save_every_says_when_it_saves(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    code, out, err = rustgpt(
        "train", "--epochs", "3", "--chat-epochs", "2", *TINY, "--save-every", "2", "--out", target
    )
    assert code == 0
    assert err == (
        f"saved {target} (epoch 2 of 5)\n"
        f"saved {target} (epoch 4 of 5)\n"  # epoch 5 is the final save, said on stdout
    )
    assert out.endswith(f"epoch 5 of 5\nsaved {target}\n")
    code, out, err = rustgpt(
        "train",
        "--epochs",
        "3",
        "--chat-epochs",
        "2",
        *TINY,
        "--save-every",
        "2",
        "--out",
        target,
        "--max-epochs",
        "4",
    )
    assert (code, err) == (0, f"saved {target} (epoch 2 of 5)\n")  # epoch 4 ends this run
    assert out.endswith(f"epoch 4 of 5\nsaved {target}\n")


def frames(stream: str) -> list[str]:
    """The successive states of a progress bar drawn with carriage returns."""
    return [frame.rstrip("\n") for frame in re.split(r"[\r\n]", stream) if frame.strip()]


def test_the_progress_bar_is_readable_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    facts, chat = corpora(tmp_path)
    err = Terminal()
    code, _, _ = rustgpt(
        "train",
        *("--corpus", facts, "--chat-corpus", chat, "--epochs", "100", "--chat-epochs", "100"),
        *TINY,
        "--out",
        tmp_path / "m.json",
        stderr=err,
    )
    assert code == 0
    drawn = frames(err.getvalue())
    assert "instruction_tuning" not in err.getvalue()
    # a frame: phase, bar, epochs done of all, times, then loss and tokens/s apart
    shape = re.compile(
        r"(pre-training      |instruction tuning) (.+) +(\d+)/200 \[\d\d:\d\d<[0-9:?]+\]"
        r"(?:, loss \d+\.\d{4} · [\d,]+ tok/s)?"
    )
    seen = set()
    for frame in drawn:
        assert len(frame) <= 80, frame
        match = shape.fullmatch(frame)
        assert match, frame
        assert len(match[2]) >= 10, frame  # the bar itself stays visible
        seen.add(match[1].strip())
    assert seen == {"pre-training", "instruction tuning"}
    assert drawn[-1].startswith("instruction tuning") and " 200/200 " in drawn[-1]
    assert ", loss " in drawn[-1] and " · " in drawn[-1]


def test_the_loss_plot_draws_each_phase_apart_with_its_legend_off_the_curve(
    tmp_path: Path,
) -> None:
    from matplotlib.transforms import Bbox

    from rustgpt_model.commands.loss_plot import loss_figure

    facts, chat = corpora(tmp_path)
    argv = ["--epochs", "6", "--chat-epochs", "4", "--corpus", facts, "--chat-corpus", chat]
    assert rustgpt("train", *argv, *TINY, "--quiet", "--out", tmp_path / "m.json")[0] == 0
    training = load(tmp_path / "m.json").training
    assert training is not None
    figure = loss_figure(training)
    figure.canvas.draw()
    (axes,) = figure.axes
    curves = [line for line in axes.get_lines() if len(line.get_xdata()) > 2]
    spans = [(int(min(c.get_xdata())), int(max(c.get_xdata()))) for c in curves]
    assert spans == [(1, 6), (7, 10)]  # no segment joins epoch 6 to epoch 7
    assert [c.get_label() for c in curves] == ["pre-training", "instruction tuning"]
    (legend,) = figure.legends or [axes.get_legend()]
    box: Bbox = legend.get_window_extent()
    for curve in curves:
        points = curve.get_transform().transform(curve.get_xydata())
        assert not any(box.contains(x, y) for x, y in points)
    assert not box.overlaps(axes.get_window_extent())


class Watcher(io.StringIO):
    """Standard error that reads the checkpoint file each time a periodic save is announced."""

    def __init__(self, target: Path) -> None:
        super().__init__()
        self.target = target
        self.seen: list[tuple[int, int | None]] = []

    def write(self, text: str) -> int:
        said = re.match(r"saved .* \(epoch (\d+) of \d+\)", text)
        if said:
            training = load(self.target).training if self.target.exists() else None
            self.seen.append((int(said[1]), training.epochs_completed if training else None))
        return super().write(text)


def test_save_every_writes_the_file_at_each_announced_epoch(tmp_path: Path) -> None:
    """On disk when announced, mid-run: the file holds the epochs done at that moment."""
    target = tmp_path / "m.json"
    watcher = Watcher(target)
    code, _, _ = rustgpt(
        "train",
        "--epochs",
        "3",
        "--chat-epochs",
        "2",
        *TINY,
        "--save-every",
        "2",
        "--out",
        target,
        stderr=watcher,
    )
    assert code == 0
    assert watcher.seen == [(2, 2), (4, 4)]
    final = load(target).training
    assert final is not None and final.epochs_completed == 5
