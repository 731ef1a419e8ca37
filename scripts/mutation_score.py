"""Mutation score per module: mutmut over the modules that hold the format's rules and numerics.

    python scripts/mutation_score.py                      # every module in MODULES
    python scripts/mutation_score.py rustgpt_model/loss.py rustgpt_format/float32.py
    python scripts/mutation_score.py --changed-since v0.1.0   # modules changed since a tag
    python scripts/mutation_score.py --survivors out.md  # and each survivor's diff

Each module is mutated in its own copy of the tree (under ``--workdir``, default a
temporary folder), so the shared checkout gets no ``mutants/`` folder and one module's
results cannot leak into another's; the copy's ``setup.cfg`` is the repository's
``[mutmut]`` section with ``only_mutate`` set to the module and the test selection set to
the test files listed for it below (mutmut then runs, for each mutant, only the tests
that reach the mutated function). Needs the ``mutation`` extra (``pip install -e
".[mutation]"``).

Prints one Markdown table: mutants, killed (a timeout counts as killed: the mutant
changed behaviour), survived, no tests (the selection never calls the mutated
function: counted as surviving), and the score = killed / mutants.
"""

from __future__ import annotations

import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUSTGPT_SOURCE = ROOT.parent / "shared" / "oracles" / "rustgpt" / "rustgpt" / "src"
ORACLE = ROOT.parent / "oracle-build" / "src" / "target" / "release" / "oracle"

FORMAT_TESTS = "tests/rustgpt_format"
MODEL_TESTS = "tests/rustgpt_model"

MODULES: dict[str, list[str]] = {
    # module: the test files that exercise it (kept fast: the run repeats them per mutant)
    "rustgpt_format/float32.py": [
        f"{FORMAT_TESTS}/test_float32.py",
        f"{FORMAT_TESTS}/test_fixtures.py",
        f"{FORMAT_TESTS}/test_schema.py",
    ],
    "rustgpt_format/models/structure.py": [
        f"{FORMAT_TESTS}/test_errors.py",
        f"{FORMAT_TESTS}/test_writing.py",
        f"{FORMAT_TESTS}/test_fixtures.py",
        f"{FORMAT_TESTS}/models",
    ],
    "rustgpt_format/models/layers.py": [
        f"{FORMAT_TESTS}/test_errors.py",
        f"{FORMAT_TESTS}/test_writing.py",
        f"{FORMAT_TESTS}/test_fixtures.py",
        f"{FORMAT_TESTS}/test_dialect.py",
        f"{FORMAT_TESTS}/models",
    ],
    "rustgpt_format/models/adam.py": [
        f"{FORMAT_TESTS}/test_errors.py",
        f"{FORMAT_TESTS}/test_fixtures.py",
        f"{FORMAT_TESTS}/models",
    ],
    "rustgpt_format/models/checkpoint.py": [
        f"{FORMAT_TESTS}/test_errors.py",
        f"{FORMAT_TESTS}/test_writing.py",
        f"{FORMAT_TESTS}/test_fixtures.py",
        f"{FORMAT_TESTS}/models",
    ],
    "rustgpt_format/models/vocab.py": [
        f"{FORMAT_TESTS}/test_errors.py",
        f"{FORMAT_TESTS}/test_fixtures.py",
        f"{MODEL_TESTS}/test_tokenizer.py",
        f"{FORMAT_TESTS}/models",
    ],
    "rustgpt_format/models/training.py": [
        f"{FORMAT_TESTS}/test_errors.py",
        f"{FORMAT_TESTS}/test_fixtures.py",
        f"{FORMAT_TESTS}/models",
    ],
    "rustgpt_format/models/config.py": [
        f"{FORMAT_TESTS}/test_errors.py",
        f"{FORMAT_TESTS}/test_fixtures.py",
        f"{FORMAT_TESTS}/models",
    ],
    "rustgpt_format/models/base.py": [
        f"{FORMAT_TESTS}/test_errors.py",
        f"{FORMAT_TESTS}/test_fixtures.py",
        f"{FORMAT_TESTS}/models",
    ],
    "rustgpt_format/models/parts.py": [f"{FORMAT_TESTS}/test_parts.py"],
    "rustgpt_format/codec.py": [
        f"{FORMAT_TESTS}/test_codec.py",
        f"{FORMAT_TESTS}/test_errors.py",
        f"{FORMAT_TESTS}/test_hardening_reader.py",
        f"{FORMAT_TESTS}/test_hardening_limits.py",
        f"{FORMAT_TESTS}/test_fixtures.py",
        f"{FORMAT_TESTS}/test_json_scan.py",
        f"{FORMAT_TESTS}/forms/test_json.py",
        # property tests over generated checkpoints (80 s per surviving mutant on the
        # shared machine): run them by hand on the survivors
        *(
            f"--deselect={FORMAT_TESTS}/test_codec.py::test_{name}"
            for name in (
                "bytes_round_trip_is_bit_exact_and_stable",
                "pretty_form_reads_back_the_same",
                "every_generated_checkpoint_validates_against_the_schema",
            )
        ),
    ],
    "rustgpt_format/json_scan.py": [
        f"{FORMAT_TESTS}/test_json_scan.py",
        f"{FORMAT_TESTS}/test_codec.py",
        f"{FORMAT_TESTS}/test_hardening_reader.py",
        f"{FORMAT_TESTS}/test_hardening_limits.py",
    ],
    "rustgpt_format/compression.py": [f"{FORMAT_TESTS}/forms/test_gzip.py"],
    "rustgpt_format/forms/json.py": [
        f"{FORMAT_TESTS}/forms/test_json.py",
        f"{FORMAT_TESTS}/test_forms.py",
        f"{FORMAT_TESTS}/test_codec.py",
        f"{FORMAT_TESTS}/test_dialect.py",
        f"{FORMAT_TESTS}/test_extending.py",
        f"{FORMAT_TESTS}/test_hardening_hostile.py",
        f"{FORMAT_TESTS}/test_memory_bound.py",  # the early check of a large document
    ],
    "rustgpt_format/forms/gzip.py": [
        f"{FORMAT_TESTS}/forms/test_gzip.py",
        f"{FORMAT_TESTS}/forms/test_json.py",
        f"{FORMAT_TESTS}/test_forms.py",
        f"{FORMAT_TESTS}/test_hardening_hostile.py",
    ],
    "rustgpt_format/forms/rustgpt_bin.py": [
        f"{FORMAT_TESTS}/forms/test_rustgpt_bin.py",
        f"{FORMAT_TESTS}/bincode/test_recognition.py",
        f"{FORMAT_TESTS}/bincode/test_rustgpt.py",
        f"{FORMAT_TESTS}/test_hardening_hostile.py",
        f"{FORMAT_TESTS}/test_memory_bound.py",  # the early check of a large file
    ],
    "rustgpt_format/forms/safetensors.py": [
        f"{FORMAT_TESTS}/forms/test_safetensors.py",
        f"{FORMAT_TESTS}/forms/test_safetensors_reading.py",
        f"{FORMAT_TESTS}/forms/test_safetensors_writing.py",
        f"{FORMAT_TESTS}/forms/test_safetensors_refusals.py",
        f"{FORMAT_TESTS}/forms/test_safetensors_problems.py",
        # the partial loads (layers=) of the binary form
        *(
            f"{FORMAT_TESTS}/test_parts.py::test_{name}"
            for name in (
                "a_partial_safetensors_load_reads_only_the_requested_bytes",
                "other_tensors_damaged_on_disk_do_not_stop_a_partial_load",
                "every_form_gives_the_same_parts",
                "a_damaged_requested_layer_is_named_by_its_index",
            )
        ),
        f"{FORMAT_TESTS}/test_boundary.py",
        f"{FORMAT_TESTS}/test_hardening_limits.py",
        f"{FORMAT_TESTS}/test_hardening_hostile.py",
    ],
    "rustgpt_format/forms/base.py": [
        # Source, its buffers and prefixes, check_early and recognition are exercised by
        # every form's reader tests; the CLI's stream tests run in subprocesses, which
        # mutmut cannot see reach a function (and cost 24 s), so they are left out
        f"{FORMAT_TESTS}/forms/test_form_base.py",
        f"{FORMAT_TESTS}/test_forms.py",
        f"{FORMAT_TESTS}/test_errors.py",
        f"{FORMAT_TESTS}/forms/test_json.py",
        f"{FORMAT_TESTS}/forms/test_gzip.py",
        f"{FORMAT_TESTS}/forms/test_rustgpt_bin.py",
        f"{FORMAT_TESTS}/forms/test_safetensors.py",
        f"{FORMAT_TESTS}/test_memory_bound.py",  # mapped buffers, check_early
        f"{FORMAT_TESTS}/test_hardening_limits.py",  # max_file_bytes
        f"{FORMAT_TESTS}/test_hardening_hostile.py",  # describe_content
        f"{FORMAT_TESTS}/test_extending.py",  # Registry.register and unregister
    ],
    "rustgpt_format/bincode/reading.py": [
        f"{FORMAT_TESTS}/bincode/test_reading.py",
        f"{FORMAT_TESTS}/bincode/test_recognition.py",
        f"{FORMAT_TESTS}/forms/test_rustgpt_bin.py",
        # the two-pass read of a large .bin (stand-ins first), its threshold lowered
        f"{FORMAT_TESTS}/test_memory_bound.py::test_a_large_bin_reads_as_in_one_pass",
        # timing tests and the sweeps over every cut and random damage (80 s per
        # surviving mutant on the shared machine): run them by hand on the survivors
        *(
            f"--deselect={FORMAT_TESTS}/bincode/test_reading.py::test_{name}"
            for name in (
                "decoding_time_grows_linearly_with_the_words",
                "decoding_time_grows_linearly_with_the_layers",
                "every_truncation_is_refused",
                "random_damage_gives_a_document_or_a_checkpoint_error",
            )
        ),
    ],
    "rustgpt_model/ops.py": [
        f"{MODEL_TESTS}/test_ops.py",
        f"{MODEL_TESTS}/test_loss.py",
        f"{MODEL_TESTS}/layers",
    ],
    "rustgpt_model/loss.py": [f"{MODEL_TESTS}/test_loss.py"],
    "rustgpt_model/adam.py": [
        f"{MODEL_TESTS}/test_adam.py",
        f"{MODEL_TESTS}/test_adam_streamed.py",
        f"{MODEL_TESTS}/test_adam_protocol.py",
        f"{MODEL_TESTS}/test_train.py",
    ],
    "rustgpt_model/tokenizer.py": [f"{MODEL_TESTS}/test_tokenizer.py"],
    "rustgpt_model/generate.py": [f"{MODEL_TESTS}/test_generate.py"],
    "rustgpt_model/train.py": [f"{MODEL_TESTS}/test_train.py", f"{MODEL_TESTS}/test_finetune.py"],
    "rustgpt_model/network.py": [f"{MODEL_TESTS}/test_network.py"],
    "rustgpt_model/layers/attention.py": [f"{MODEL_TESTS}/layers/test_attention.py"],
    "rustgpt_model/layers/embeddings.py": [f"{MODEL_TESTS}/layers/test_embeddings.py"],
    "rustgpt_model/layers/feed_forward.py": [f"{MODEL_TESTS}/layers/test_feed_forward.py"],
    "rustgpt_model/layers/layer_norm.py": [f"{MODEL_TESTS}/layers/test_layer_norm.py"],
    "rustgpt_model/layers/output.py": [
        f"{MODEL_TESTS}/layers/test_output.py",
        f"{MODEL_TESTS}/layers/test_output_blocks.py",
    ],
}

KILLED = {"killed", "timeout", "caught by type check", "segfault"}


@dataclass
class Score:
    module: str
    statuses: Counter[str]
    survivors: list[str]

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def killed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status in KILLED)

    def row(self) -> str:
        score = f"{100 * self.killed / self.total:.1f}%" if self.total else "—"
        return (
            f"| `{self.module}` | {self.total} | {self.killed} | "
            f"{self.statuses['survived']} | {self.statuses['no tests']} | {score} |"
        )


HEADER = (
    "| module | mutants | killed | survived | no tests | score |\n|---|---:|---:|---:|---:|---:|"
)


def copy_tree(target: Path) -> None:
    """The checkout's files (tracked and new, not ignored) as they are in the work tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if name.startswith("tests/ajv/node_modules/"):
            continue
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def write_config(target: Path, module: str, tests: list[str]) -> None:
    """The repository's [mutmut] settings, narrowed to ``module`` and its tests."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    section = parser["mutmut"]
    section["only_mutate"] = "\n" + module
    section["pytest_add_cli_args_test_selection"] = "\n" + "\n".join(tests)
    with (target / "setup.cfg").open("w") as stream:
        parser.write(stream)


def run_module(module: str, workdir: Path, max_children: int, log: Path) -> Score:
    target = workdir / re.sub(r"[^A-Za-z0-9]+", "_", module.removesuffix(".py"))
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    copy_tree(target)
    write_config(target, module, MODULES[module])
    environment = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        # the copy is not beside shared/: tests that read RustGPT's source or the
        # oracle are pointed at the real ones
        "RUSTGPT_SOURCE": os.environ.get("RUSTGPT_SOURCE", str(RUSTGPT_SOURCE)),
        "RUSTGPT_ORACLE": os.environ.get("RUSTGPT_ORACLE", str(ORACLE)),
    }
    mutmut = [sys.executable, "-m", "mutmut"]
    with log.open("a") as stream:
        stream.write(f"\n=== {module}\n")
        stream.flush()
        subprocess.run(
            [*mutmut, "run", "--max-children", str(max_children)],
            cwd=target,
            env=environment,
            stdout=stream,
            stderr=subprocess.STDOUT,
            check=False,
        )
    listed = subprocess.run(
        [*mutmut, "results", "--all", "true"],
        cwd=target,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    statuses: Counter[str] = Counter()
    survivors = []
    for line in listed.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name:
            continue
        statuses[status] += 1
        if status not in KILLED:
            survivors.append(name)
    return Score(module, statuses, survivors)


def survivor_diffs(score: Score, workdir: Path) -> str:
    target = workdir / re.sub(r"[^A-Za-z0-9]+", "_", score.module.removesuffix(".py"))
    parts = [f"## {score.module}\n"]
    for name in score.survivors:
        shown = subprocess.run(
            [sys.executable, "-m", "mutmut", "show", name],
            cwd=target,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        parts.append(f"```diff\n{shown.strip()}\n```\n")
    return "\n".join(parts)


def changed_since(tag: str) -> list[str]:
    names = subprocess.run(
        ["git", "diff", "--name-only", tag, "--"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [module for module in MODULES if module in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all)")
    parser.add_argument("--changed-since", metavar="REF", help="only modules changed since REF")
    parser.add_argument("--workdir", type=Path, help="where the copies go (kept)")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutants")
    parser.add_argument("--survivors", type=Path, help="write each survivor's diff here")
    parser.add_argument("--log", type=Path, help="mutmut's output (default: WORKDIR/mutmut.log)")
    args = parser.parse_args(argv)
    modules = args.modules or (changed_since(args.changed_since) if args.changed_since else [])
    modules = modules or ([] if args.changed_since else list(MODULES))
    unknown = [module for module in modules if module not in MODULES]
    if unknown:
        parser.error(f"not in MODULES: {', '.join(unknown)} (known: {', '.join(MODULES)})")
    if not modules:
        print("no module to mutate")
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mutation-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log = args.log or workdir / "mutmut.log"
    scores = []
    for module in modules:
        score = run_module(module, workdir, args.max_children, log)
        scores.append(score)
        # "not checked" and the like: mutmut did not run the mutants (its clean run of
        # the tests failed, say); the row would read as a score of 0 without a reason
        counted = KILLED | {"survived", "no tests"}
        unrun = {status: n for status, n in score.statuses.items() if status not in counted}
        if unrun:
            print(f"{module}: mutants not run ({unrun}); see {log}", file=sys.stderr, flush=True)
        print(f"{score.row()}", file=sys.stderr, flush=True)
    print(HEADER)
    for score in scores:
        print(score.row())
    total = sum(score.total for score in scores)
    killed = sum(score.killed for score in scores)
    if total:
        print(f"| all | {total} | {killed} | | | {100 * killed / total:.1f}% |")
    if args.survivors:
        args.survivors.write_text("\n".join(survivor_diffs(score, workdir) for score in scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
