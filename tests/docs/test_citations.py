"""Every repository path cited in docs/ and README.md, and in the docstrings and comments of the code, exists.

A citation is a path from the repository's root (a file such as ``docs/reliability.md`` or a folder), a test id
(``tests/<folder>/test_<x>.py::test_<name>``), a dotted module with at most one name in it, or, in Markdown, a
relative link with its anchor; a path with ``<``, ``*`` or ``{`` is a pattern, not a citation. Nothing outside the
repository may be cited (a note one folder up): a reader of the repository cannot follow it.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = ("bot", "handlers", "cards", "bench", "tests")
CONFIG = ("pyproject.toml", "Makefile", "Dockerfile", ".ci/run")  # their comments
NOT_PATHS = {"deploy/distansmote"}  # kubectl's name of the Deployment (docs/operations.md)
TOP = r"(?:bot|handlers|cards|bench|tests|docs|deploy|manifest|\.ci)/[\w./-]*[\w/]"
FILES = r"README\.md|Makefile|pyproject\.toml|Dockerfile|requirements(?:-runtime)?\.lock|package\.json|\.env\.example"
PATH = re.compile(rf"(?<![\w./-])(?P<path>{TOP}|{FILES})(?:::(?P<test>[\w:]+))?")
MODULE = re.compile(r"(?<![\w./-])(?P<module>(?:bot|handlers|cards|bench)(?:\.[a-z_][a-z0-9_]*)+)")
OUTSIDE = re.compile(r"(?<![\w.])\.\./[\w./-]*")
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
PATTERN = re.compile(r"[<*{…]")


def _texts_of_code(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each docstring and comment of a Python file."""
    source = path.read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                yield body[0].lineno, body[0].value.value
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string


def _texts_of_config(path: Path) -> Iterator[tuple[int, str]]:
    for line, text in enumerate(path.read_text().splitlines(), start=1):
        if "#" in text:
            yield line, text.split("#", 1)[1]


def _sources() -> Iterator[Path]:
    yield ROOT / "README.md"
    yield from sorted((ROOT / "docs").rglob("*.md"))
    for folder in CODE:
        yield from sorted((ROOT / folder).rglob("*.py"))
    yield from (ROOT / name for name in CONFIG)


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown page."""
    headings = re.findall(r"^#+\s+(.*?)\s*$", page.read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def _module_exists(dotted: str) -> bool:
    """The longest prefix that is a module or package; what follows it may be one name that module holds."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:end])
        module = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        if module.is_file():
            rest = parts[end:]
            return not rest or (len(rest) == 1 and re.search(rf"\b{rest[0]}\b", module.read_text()) is not None)
    return False


def _test_exists(path: Path, test: str) -> bool:
    names = set(re.findall(r"^\s*(?:async\s+)?(?:def|class)\s+(\w+)", path.read_text(), re.MULTILINE))
    return all(part in names for part in test.split("::"))


def _stale_in(path: Path, line: int, text: str, markdown: bool) -> Iterator[str]:
    where = f"{path.relative_to(ROOT)}:{line}"
    for match in PATH.finditer(text):
        cited, test = match["path"], match["test"]
        if cited in NOT_PATHS or PATTERN.search(text[match.end():match.end() + 1]):
            continue  # bot/platforms/<name>/, bot/migrations/versions/*.py
        target = ROOT / cited
        if not target.exists():
            yield f"{where}: {cited} does not exist"
        elif test and not (target.is_file() and _test_exists(target, test)):
            yield f"{where}: {cited}::{test} does not exist"
    if markdown:
        for match in LINK.finditer(text):
            target_text, _, anchor = match["target"].partition("#")
            if re.match(r"[a-z]+:", target_text):
                continue  # a URL
            target = (path.parent / target_text).resolve() if target_text else path
            if not target.is_relative_to(ROOT) or not target.exists():
                yield f"{where}: link {match['target']} does not exist in the repository"
            elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
                yield f"{where}: link {match['target']} names no heading of {target.name}"
        return
    for match in OUTSIDE.finditer(text):
        yield f"{where}: {match[0]} is outside the repository"
    for match in MODULE.finditer(text):
        if not _module_exists(match["module"]):
            yield f"{where}: module {match['module']} does not exist"


def stale_citations() -> list[str]:
    found = []
    for path in _sources():
        if path.suffix == ".md":
            texts: Iterator[tuple[int, str]] = enumerate(path.read_text().splitlines(), start=1)
        elif path.suffix == ".py":
            texts = _texts_of_code(path)
        else:
            texts = _texts_of_config(path)
        for line, text in texts:
            found += _stale_in(path, line, text, markdown=path.suffix == ".md")
    return found


def test_every_cited_path_exists() -> None:
    assert stale_citations() == []


@pytest.mark.parametrize(("text", "stale"), [
    ("see bot/platforms/webex.py", True),
    ("see bot/platforms/webex/", False),
    ("tests/test_logs.py holds it", True),
    ("notes in ../shared/DESIGN.md", True),
    ("tests/test_architecture.py::test_no_such_test", True),
    ("tests/docs/test_citations.py::test_every_cited_path_exists", False),
    ("bot.services.no_such_module", True),
    ("bot.core.adapter.Adapter", False),
    ("bot/platforms/<name>/adapter.py", False),
])
def test_a_stale_citation_is_found(text: str, stale: bool) -> None:
    assert bool(list(_stale_in(ROOT / "bot" / "x.py", 1, text, markdown=False))) is stale


@pytest.mark.parametrize(("text", "stale"), [
    ("[the CMS](reliability.md#the-cms)", False),
    ("[the CMS](reliability.md#no-such-heading)", True),
    ("[gone](no-such-page.md)", True),
    ("[notes](../../shared/DESIGN.md)", True),
    ("[readme](../README.md)", False),
    ("[Python](https://docs.python.org/3/)", False),
])
def test_a_stale_link_is_found(text: str, stale: bool) -> None:
    assert bool(list(_stale_in(ROOT / "docs" / "x.md", 1, text, markdown=True))) is stale
