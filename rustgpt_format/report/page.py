"""The report page: one self-contained HTML document, built from :mod:`.content`.

No script, no font, no URL: a Content-Security-Policy in the page forbids fetching
anything, so even a string that slipped through unescaped could not load a thing.
Every string that comes from a file goes through :func:`.markup.text`.
Numbers are printed to 4 significant digits and carried in full in ``data-``
attributes, which the tests read back.
"""

from __future__ import annotations

from rustgpt_format import FORMAT_VERSION, Checkpoint
from rustgpt_format.report import arrays, changes, markup, overview
from rustgpt_format.report.content import (
    Subject,
    architecture_difference,
    array_changes,
    from_checkpoint,
    from_document,
)
from rustgpt_format.report.digest import canonical_sha256
from rustgpt_format.report.style import CSS

POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render(after: Subject | Checkpoint, *, before: Subject | Checkpoint | None = None) -> str:
    """The report of ``after`` as HTML; with ``before``, also what changed since it.

    Raises ValueError when both are valid and their architectures differ.

    >>> from rustgpt_format.examples import tiny_checkpoint
    >>> page = render(tiny_checkpoint())
    >>> page.startswith("<!doctype html>"), "network[1].w_q" in page
    (True, True)
    """
    after = after if isinstance(after, Subject) else Subject("checkpoint", after)
    if isinstance(before, Checkpoint):
        before = Subject("before", before)
    found = None
    if before is not None and before.checkpoint and after.checkpoint:
        difference = architecture_difference(before.checkpoint, after.checkpoint)
        if difference:
            raise ValueError(f"different architectures: {difference}")
        found = array_changes(before.checkpoint, after.checkpoint)
    if after.checkpoint is not None:
        content = from_checkpoint(after, digest=canonical_sha256(after.checkpoint), changes=found)
    else:
        content = from_document(after)
    sections = [overview.problems(after, before), overview.glance(content)]
    if before is not None:
        sections.append(changes.comparison(content, before, found))
    sections += [
        overview.training(content.training),
        overview.network(content),
        arrays.arrays(content),
        arrays.adam(content),
    ]
    title = f"{after.name} · checkpoint report"
    nav = "".join(
        f'<a href="#{key}">{label}</a>'
        for key, label, shown in (
            ("problems", "Problems", bool(after.problems or (before and before.problems))),
            ("glance", "At a glance", True),
            ("changes", "Changes", before is not None),
            ("training", "Training", content.training is not None),
            ("network", "Network", True),
            ("arrays", "Arrays", True),
            ("adam", "Adam", True),
        )
        if shown
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        f"<title>{markup.text(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<header><p class="kicker">RustGPT checkpoint report</p><h1>{markup.text(after.name)}</h1>'
        f'<nav aria-label="Sections">{nav}</nav></header>\n<main>\n'
        + "\n".join(s for s in sections if s)
        + f"\n</main>\n<footer>Written by rustgpt-format (format {FORMAT_VERSION}). "
        "Statistics in float64 over every element; std is the population one.</footer>\n"
        "</body>\n</html>\n"
    )
