"""The README is a short entry point, and what it and docs/ point at exists.

A link to a moved section, a renamed module or a deleted test is a false statement a reader acts on;
these checks catch it when the move happens instead of when someone follows the link.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

# Folders whose paths, written in backticks, name files of this repository (var/ and artifacts/ are
# made at run time, so they are not here).
REPO_FOLDERS = ("bot", "actions", "tests", "bench", "docs", "data", "demo", "nlu_components", ".ci")
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def prose(page: Path) -> str:
    """The page without its fenced blocks: commands and examples there are not links or claims of paths."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    anchors: set[str] = set()
    for line in prose(page).splitlines():
        match = re.match(r"^#{1,6} (.+)$", line)
        if match:
            text = match.group(1).strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return anchors


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_readme_is_an_entry_point_of_at_most_250_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


def test_readme_links_every_docs_page():
    linked = {(README.parent / target.split("#")[0]).resolve() for target in MARKDOWN_LINK.findall(prose(README))}
    unlinked = [page_id(page) for page in PAGES[1:] if page.resolve() not in linked]
    assert unlinked == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_reach_a_file_and_heading(page):
    broken = []
    for target in MARKDOWN_LINK.findall(prose(page)):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_repository_paths_in_backticks_exist(page):
    test_modules = {path.name for path in (ROOT / "tests").rglob("test_*.py")}
    missing = []
    for span in CODE_SPAN.findall(page.read_text(encoding="utf-8")):
        candidate = span.strip()
        if any(mark in candidate for mark in ("…", "*", "{", " ", "<")):
            continue
        if candidate.split("/")[0] in REPO_FOLDERS and "/" in candidate:
            if not (ROOT / candidate).exists():
                missing.append(candidate)
        elif re.fullmatch(r"test_\w+\.py", candidate):
            if candidate not in test_modules:
                missing.append(candidate)
        elif (
            re.fullmatch(r"[\w-]+\.(yml|yaml|toml|ini|txt)", candidate)
            and "/" not in candidate
            and not (ROOT / candidate).exists()
        ):
            missing.append(candidate)
    assert missing == []
