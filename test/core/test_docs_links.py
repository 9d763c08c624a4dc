"""The README stays short and every relative link in README.md and docs/ resolves (file and, where given, anchor)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README_MAX_LINES = 300

# [text](target) with an optional "title"; images too. Code spans and fenced blocks are removed first.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)


def _documents() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def _strip_code(text: str) -> str:
    return FENCE.sub("", text)


def _links(text: str) -> list[str]:
    return LINK.findall(_strip_code(text))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _, heading in HEADING.findall(_strip_code(path.read_text())):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _is_external(target: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I))


def test_readme_is_at_most_300_lines():
    lines = (REPO / "README.md").read_text().count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move details into docs/"


def test_every_relative_link_resolves():
    broken = []
    checked = 0
    for document in _documents():
        for target in _links(document.read_text()):
            if _is_external(target):
                continue
            path_part, _, anchor = target.partition("#")
            resolved = document if not path_part else (document.parent / path_part).resolve()
            checked += 1
            if not resolved.exists():
                broken.append(f"{document.relative_to(REPO)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{document.relative_to(REPO)}: {target} (no heading with that anchor)")
    assert checked > 20, "the link pattern found almost no links"
    assert not broken, "\n".join(broken)


def test_the_link_checker_sees_links_and_anchors():
    assert _links("see [a](docs/node.md#topics) and ![pic](x.png)\n```\n[not](code.md)\n```\n") == [
        "docs/node.md#topics",
        "x.png",
    ]
    assert _slug("The demo (`make demo`)") == "the-demo-make-demo"
    assert _slug("Memory reuse (malloc tuning)") == "memory-reuse-malloc-tuning"
    assert _slug("Frames and stamps (REP-103)") == "frames-and-stamps-rep-103"


def test_docs_are_linked_from_the_readme():
    readme_targets = {target.partition("#")[0] for target in _links((REPO / "README.md").read_text())}
    for document in sorted((REPO / "docs").glob("*.md")):
        assert f"docs/{document.name}" in readme_targets, f"README.md does not link docs/{document.name}"


def test_no_placeholders_in_the_documents():
    for document in _documents():
        text = document.read_text()
        assert not re.search(r"\bTODO\b|\bTBD\b|\bFIXME\b|\bXXX\b", text), document.relative_to(REPO)
