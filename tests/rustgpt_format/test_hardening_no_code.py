"""No code runs from a file: the packages never unpickle, evaluate or import by name.

Checked on the syntax trees of the package sources, so a comment or a docstring that
mentions pickle does not count, and an alias (``from pickle import loads as l``) does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent
PACKAGES = ("rustgpt_format", "rustgpt_model")

FORBIDDEN_MODULES = {
    "pickle": "unpickling runs code named in the data",
    "_pickle": "unpickling runs code named in the data",
    "cPickle": "unpickling runs code named in the data",
    "dill": "unpickling runs code named in the data",
    "joblib": "joblib files are pickles",
    "shelve": "shelves are pickles",
    "marshal": "marshal loads code objects",
    "importlib": "imports a module a string names",
    "runpy": "runs a module a string names",
    "torch": "torch.load unpickles; the binary form is read by safetensors' numpy API",
    "safetensors.torch": "pulls in torch; the numpy API is enough",
    "yaml": "yaml.load builds arbitrary objects",
}
ALLOWED_MODULES = {"importlib.resources", "importlib.metadata"}
"""Parts of a forbidden module that read package data, never import by name."""
FORBIDDEN_CALLS = {
    "eval": "evaluates text as code",
    "exec": "runs text as code",
    "compile": "turns text into code",
    "__import__": "imports a module a string names",
    "np.load": "numpy.load reads pickles when allow_pickle is set",
    "numpy.load": "numpy.load reads pickles when allow_pickle is set",
}


def violations(source: str, name: str) -> list[str]:
    """Each forbidden import or call in ``source``, as ``name:line: what (why)``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [f"{node.module}.{alias.name}" for alias in node.names]
        for module in modules:
            if any(_within(module, allowed) for allowed in ALLOWED_MODULES):
                continue
            for forbidden, why in FORBIDDEN_MODULES.items():
                if _within(module, forbidden):
                    found.append(f"{name}:{node.lineno}: import {module} ({why})")
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            if called in FORBIDDEN_CALLS:
                found.append(f"{name}:{node.lineno}: {called}() ({FORBIDDEN_CALLS[called]})")
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def package_sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_the_packages_never_unpickle_evaluate_or_import_by_name() -> None:
    assert len(package_sources()) > 20  # the packages were found
    found = [
        problem
        for path in package_sources()
        for problem in violations(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import pickle", ["x.py:1: import pickle (unpickling runs code named in the data)"]),
        (
            "from pickle import loads as l",
            ["x.py:1: import pickle.loads (unpickling runs code named in the data)"],
        ),
        (
            "from safetensors.torch import load_file",
            [
                "x.py:1: import safetensors.torch.load_file (pulls in torch; the numpy API is enough)"
            ],
        ),
        (
            "from importlib import import_module, resources",
            ["x.py:1: import importlib.import_module (imports a module a string names)"],
        ),
        ("y = eval(text)", ["x.py:1: eval() (evaluates text as code)"]),
        ("\n__import__(name)", ["x.py:2: __import__() (imports a module a string names)"]),
        (
            "a = np.load(f, allow_pickle=True)",
            ["x.py:1: np.load() (numpy.load reads pickles when allow_pickle is set)"],
        ),
        ("# pickle.loads(data) in a comment\n'eval(text)'", []),  # text, not code
        ("from safetensors.numpy import load", []),  # what the binary form uses
    ],
)
def test_the_check_finds_what_it_forbids(source: str, expected: list[str]) -> None:
    assert violations(source, "x.py") == expected
