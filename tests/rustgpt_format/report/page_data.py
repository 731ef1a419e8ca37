"""Reading a report page back: the numbers it carries in ``data-`` attributes."""

from __future__ import annotations

from html.parser import HTMLParser


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


def elements(page: str) -> list[tuple[str, dict[str, str]]]:
    """Every start tag of the page with its attributes, in document order."""
    collector = _Collector()
    collector.feed(page)
    collector.close()
    return collector.elements


def stat_rows(page: str) -> dict[tuple[str, str], dict[str, str]]:
    """Statistics rows by (array path, of): of is parameter, m, v or step."""
    found = {}
    for tag, attrs in elements(page):
        if tag == "tr" and "data-of" in attrs:
            key = (attrs["data-path"], attrs["data-of"])
            assert key not in found, f"{key} twice"
            found[key] = attrs
    return found


def change_rows(page: str) -> dict[str, dict[str, str]]:
    """Rows of the comparison table by array path."""
    return {
        attrs["data-path"]: attrs
        for tag, attrs in elements(page)
        if tag == "tr" and "data-relative" in attrs
    }
