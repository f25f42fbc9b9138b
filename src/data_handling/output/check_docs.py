"""What a check's documentation says, for SARIF help: its failing and passing examples and when it fails.

The examples come from the "Examples" section of docs/checks/<ID>.md, else from the `Fails:` / `Passes:` lines
of the check file's docstring. Docs are written by people, so the reader accepts the usual shapes: one code
block whose comments say `# Fails ...` / `# Passes ...` (lines before the first such comment, say a provider
block, belong to every example of that block), or prose labels ("Fails:", "**Passing**", "### Non-compliant")
before separate blocks, or prose examples after such a label.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from data_handling.checkov_adapter.checks_location import ScanError, checks_dir
from data_handling.policy.catalogue import DOCS_BASE_URL

FAIL, PASS = "fail", "pass"
_WORD = r"(?P<word>non-?compliant|compliant|fail(?:s|ing|ed)?|pass(?:es|ing|ed)?|bad|good)\b"
_CODE_LABEL = re.compile(r"^\s*(?:#|//|/\*)\s*" + _WORD, re.IGNORECASE)
_PROSE_LABEL = re.compile(  # "Fails: ...", "- **Passing**", "### Non-compliant", "_Bad_:"
    r"^\s*(?:[-*+]\s+)?(?P<heading>#{1,6}\s*)?[*_]{0,2}\s*" + _WORD + r"[*_]{0,2}\s*(?P<colon>:)?[*_]{0,2}\s*"
    r"(?P<rest>.*)$", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
_HEADING = re.compile(r"^##\s+(?P<title>.+?)\s*#*\s*$")
_DOCSTRING_LABEL = re.compile(r"^(?P<word>Fails|Passes)\s*:\s*(?P<rest>.*)$")
_OTHER_DOCSTRING_LABEL = re.compile(r"^[A-Z][A-Za-z -]*:(\s|$)")
_HCL_START = re.compile(r"^(resource|data|module|provider|variable|locals|output|terraform)\b")
_RELATIVE_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")


@dataclass(frozen=True)
class Snippet:
    text: str
    language: str  # "hcl" (or the fence's language) for code; "" for prose


@dataclass(frozen=True)
class Examples:
    failing: tuple[Snippet, ...]
    passing: tuple[Snippet, ...]
    source: str  # the file they were read from, for messages


def docs_dir() -> Path | None:
    """docs/checks: packaged in the wheel, or the repository's in a development install."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_check_docs", package.parents[1] / "docs" / "checks"):
        if candidate.is_dir():
            return candidate
    return None


@cache
def check_doc(check_id: str) -> str | None:
    directory = docs_dir()
    path = directory / f"{check_id}.md" if directory else None
    return path.read_text(encoding="utf-8") if path and path.is_file() else None


@cache
def examples(check_id: str) -> Examples | None:
    """The check's failing and passing examples, from its doc, else from its check file's docstring."""
    doc = check_doc(check_id)
    found = examples_from_markdown(doc, f"docs/checks/{check_id}.md") if doc else None
    if found and found.failing and found.passing:
        return found
    docstring = _check_docstring(check_id)
    from_docstring = examples_from_docstring(docstring[1], docstring[0]) if docstring else None
    if from_docstring and from_docstring.failing and from_docstring.passing:
        return from_docstring
    return found or from_docstring


def fails_when(check_id: str) -> str | None:
    """The doc's "It fails when" section, with links made absolute."""
    doc = check_doc(check_id)
    text = section(doc, r"(it\s+)?fails\s+when") if doc else None
    return absolute_links(text) if text else None


def section(markdown: str, title_pattern: str) -> str | None:
    """The body of the first `## ` section whose title matches `title_pattern` (case-insensitive)."""
    lines = markdown.splitlines()
    start = None
    in_code = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_code = not in_code
        heading = None if in_code else _HEADING.match(line)
        if heading and start is not None:
            return "\n".join(lines[start:index]).strip() or None
        if heading and re.fullmatch(title_pattern, heading.group("title").strip(), re.IGNORECASE):
            start = index + 1
    if start is None:
        return None
    return "\n".join(lines[start:]).strip() or None


def absolute_links(markdown: str) -> str:
    """Relative links of a check doc, made absolute (SARIF help is shown far from the repository)."""
    def absolute(match: re.Match[str]) -> str:
        return f"]({DOCS_BASE_URL}/{posixpath.normpath(posixpath.join('docs/checks', match.group(1)))})"

    return _RELATIVE_LINK.sub(absolute, markdown)


def examples_from_markdown(markdown: str, source: str) -> Examples | None:
    body = section(markdown, r"examples?")
    if body is None:
        return None
    found: dict[str, list[Snippet]] = {FAIL: [], PASS: []}
    label: str | None = None  # set by a prose label, consumed by the next code block
    block: list[str] | None = None
    language = ""
    for line in body.splitlines():
        fence = _FENCE.match(line)
        if block is not None:
            if fence:
                for which, snippet in _split_block(block, language or "hcl", label):
                    found[which].append(snippet)
                block, label = None, None
            else:
                block.append(line)
        elif fence:
            block, language = [], fence.group(2)
        elif prose := _PROSE_LABEL.match(line):
            label = _label(prose.group("word"))
            rest = prose.group("rest").strip().strip("*_").strip()
            if rest and prose.group("colon") and not prose.group("heading"):  # "Fails: <a prose example>"
                found[label].append(Snippet(rest, ""))
    if not found[FAIL] and not found[PASS]:
        return None
    return Examples(tuple(found[FAIL]), tuple(found[PASS]), source)


def examples_from_docstring(docstring: str, source: str) -> Examples | None:
    found: dict[str, list[list[str]]] = {FAIL: [], PASS: []}
    current: list[str] | None = None
    for line in docstring.splitlines():
        labelled = _DOCSTRING_LABEL.match(line)
        if labelled:
            current = [labelled.group("rest").strip()]
            found[_label(labelled.group("word"))].append(current)
        elif current is not None and line[:1].isspace() and line.strip():
            current.append(line.strip())
        elif current is not None and (not line.strip() or _OTHER_DOCSTRING_LABEL.match(line)):
            current = None
    snippets = {which: tuple(_docstring_snippet(" ".join(parts)) for parts in entries)
                for which, entries in found.items()}
    if not snippets[FAIL] and not snippets[PASS]:
        return None
    return Examples(snippets[FAIL], snippets[PASS], source)


def _docstring_snippet(text: str) -> Snippet:
    return Snippet(text, "hcl" if _HCL_START.match(text) else "")


def _label(word: str) -> str:
    word = word.lower()
    return FAIL if word.startswith(("fail", "non", "bad")) else PASS


def _split_block(lines: list[str], language: str, label: str | None) -> list[tuple[str, Snippet]]:
    """A code block's examples: segments that start at a `# Fails` / `# Passes` comment, each with the
    block's leading lines; a block without such comments is one example of the prose label before it."""
    preamble: list[str] = []
    segments: list[tuple[str, list[str]]] = []
    for line in lines:
        marker = _CODE_LABEL.match(line)
        if marker:
            segments.append((_label(marker.group("word")), [line]))
        elif segments:
            segments[-1][1].append(line)
        else:
            preamble.append(line)
    if not segments:
        return [(label, Snippet(_tidy(lines), language))] if label and _tidy(lines) else []
    examples = []
    for which in (FAIL, PASS):
        parts = [segment for kind, segment in segments if kind == which]
        if parts:
            text = _tidy(preamble) + "\n\n" + "\n\n".join(_tidy(part) for part in parts)
            examples.append((which, Snippet(text.strip("\n"), language)))
    return examples


def _tidy(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


def _check_docstring(check_id: str) -> tuple[str, str] | None:
    """(file name, docstring) of the check file that constructs `check_id`, read without importing it."""
    try:
        directory = checks_dir()
    except ScanError:
        return None
    for path in sorted(directory.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if f'"{check_id}"' in text or f"'{check_id}'" in text:
            docstring = ast.get_docstring(ast.parse(text))
            return (f"checks/{path.name}", docstring) if docstring else None
    return None
