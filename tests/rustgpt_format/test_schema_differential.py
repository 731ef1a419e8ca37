"""The published schema and the reader, asked about the same mutated documents.

No document the reader accepts may be refused by the schema (a user's CI would then
reject checkpoints the package reads), and every document the schema accepts but the
reader refuses must break a cross-field rule the contract gives the reader (§2's data
length, §6's order and shapes, §7's progress), named as such in the error.
"""

from __future__ import annotations

import copy
import random
import re
import warnings
from typing import Any

import jsonschema
import orjson
import pytest

import rustgpt_format as rf
from rustgpt_format.examples import tiny_checkpoint

CASES = 700
SEED = 20261130
VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2,
    3,
    4,
    1.5,
    -0.5,
    1e39,
    -1e39,
    1e-50,
    "",
    "x",
    "</s>",
    "a b",
    [],
    [1],
    {},
    {"x": 1},
    2**40,
]


def base_documents() -> list[dict[str, Any]]:
    plain = orjson.loads(rf.dumps(tiny_checkpoint()))
    trained = copy.deepcopy(plain)
    trained["training"] = {
        "schedule": [{"name": "pretraining", "epochs": 3, "learning_rate": 0.0005}],
        "epochs_completed": 2,
        "steps_completed": 4,
        "loss_history": [3.5, 2.5],
        "seed": 0,
    }
    trained["metadata"] = {"author": "tests"}
    return [plain, trained]


def places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in a document, arrays' data elements sampled (they are many and alike)."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += places(value, (*path, key))
    elif isinstance(node, list):
        indices = range(len(node)) if len(node) <= 8 else (0, 1, len(node) - 1)
        for index in indices:
            found += places(node[index], (*path, index))
    return found


def mutate(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One to three random changes: a value replaced, a key removed or added, a list edited."""
    document = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(places(document)[1:])
        *head, last = path
        parent: Any = document
        for part in head:
            parent = parent[part]
        kind = rng.randrange(6)
        if kind == 0:
            parent[last] = copy.deepcopy(rng.choice(VALUES))
        elif kind == 1 and isinstance(parent, dict):
            del parent[last]
        elif kind == 2 and isinstance(parent, dict):
            parent[rng.choice(["extra", "Type", "optimizer_x", "data2"])] = 1
        elif kind == 3 and isinstance(parent[last], list) and parent[last]:
            items = parent[last]
            choice = rng.randrange(3)
            if choice == 0:
                items.pop(rng.randrange(len(items)))
            elif choice == 1:
                items.append(copy.deepcopy(rng.choice(items)))
            else:
                rng.shuffle(items)
        elif (
            kind == 4
            and isinstance(parent[last], (int, float))
            and not isinstance(parent[last], bool)
        ):
            parent[last] = parent[last] + rng.choice([-1, 1, 2])
        elif kind == 5 and last == "type":
            parent[last] = rng.choice([*rf.models.LAYER_KINDS, "Dense"])
        else:
            parent[last] = copy.deepcopy(rng.choice(VALUES))
    return document


CROSS_FIELD = ("§2 ", "§6.1 ", "§6.2 ", "§6.3 ", "§7 ")
_INTEGER = re.compile(r"expected an? (non-negative )?integer, found (?P<found>\S+)$")


def integral_float(problem: rf.Problem) -> bool:
    """The one per-field difference JSON Schema cannot state: ``4.0`` or ``1e39`` as an integer.

    JSON Schema judges numbers by value (2020-12: an integer is a number with no
    fractional part), so ``4.0`` is an integer to it; the reader, like RustGPT's serde
    reading a ``usize``, takes only integers written as integers.
    """
    match = _INTEGER.search(problem.message)
    if match is None:
        return False
    try:
        return float(match["found"]).is_integer()
    except ValueError:
        return False


def test_the_schema_and_the_reader_agree_on_mutated_documents() -> None:
    validator = jsonschema.Draft202012Validator(rf.json_schema())
    rng = random.Random(SEED)
    bases = base_documents()
    verdicts = {"both accept": 0, "both refuse": 0, "reader only refuses": 0}
    for case in range(CASES):
        document = mutate(rng.choice(bases), rng)
        text = orjson.dumps(document)
        schema_ok = validator.is_valid(document)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                rf.loads(text)
            except rf.CheckpointError as error:
                reader_problems = error.problems
            else:
                reader_problems = ()
        ignored_newer_keys = any("ignored unknown keys" in str(w.message) for w in caught)
        if not reader_problems:
            # a newer minor version's keys are for its own schema; this one cannot know them
            assert schema_ok or ignored_newer_keys, (case, text[:300])
            verdicts["both accept"] += 1
        elif not schema_ok:
            verdicts["both refuse"] += 1
        else:
            rules = [problem.rule for problem in reader_problems]
            explained = [
                rule.startswith(CROSS_FIELD) or integral_float(problem)
                for rule, problem in zip(rules, reader_problems, strict=True)
            ]
            assert all(explained), (case, [str(p) for p in reader_problems], text[:300])
            verdicts["reader only refuses"] += 1
    # the sample exercises all three outcomes, or it proves less than it claims
    assert min(verdicts.values()) >= 20, verdicts


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda d: d["network"].reverse(), "§6.1 layer order"),
        (lambda d: d["config"].update(embedding_dim=5), "§6.2 shapes agree with config"),
        (
            lambda d: d["network"][1]["optimizer_w_q"]["v"].update(dim=[2, 8]),
            "§6.3 optimizer moments have their parameter's shape",
        ),
        (lambda d: d["network"][1]["w_q"]["data"].pop(), "§2 data holds rows × cols numbers"),
    ],
)
def test_each_cross_field_rule_passes_the_schema_and_is_named_by_the_reader(
    change: Any, rule: str
) -> None:
    document = base_documents()[0]
    change(document)
    assert jsonschema.Draft202012Validator(rf.json_schema()).is_valid(document)
    with pytest.raises(rf.CheckpointError) as caught:
        rf.loads(orjson.dumps(document))
    assert caught.value.problems[0].rule == rule
