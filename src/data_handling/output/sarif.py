"""SARIF 2.1.0 for GitHub code scanning, built from the scan's findings (not checkov's own SARIF).

What GitHub needs and checkov's SARIF lacks: a rule for every check with its policy clause, help (the fix,
a failing and a passing example), `security-severity` as a string; results whose message is the finding's
detail and whose URI is relative to the repository root wherever the scan ran; no skipped (waived) results,
since GitHub ignores `suppressions` and would open them as alerts; one run with an `automationDetails.id`
so several scans upload under distinct categories.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from data_handling import __version__
from data_handling.output import check_docs, destinations
from data_handling.output.findings import Finding, Location
from data_handling.output.findings import relative_path as _uncached_relative_path
from data_handling.policy.catalogue import CATALOGUE, DOCS_BASE_URL, CheckSpec
from data_handling.policy.schema import PolicyMap
from data_handling.safe_text import one_line

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "data-handling-checks"
INFORMATION_URI = DOCS_BASE_URL.split("/blob/", 1)[0]
DEFAULT_CATEGORY = "data-handling/"
FILE_NAME = "results.sarif"
MAX_RESULTS = 25_000  # per run, GitHub's upload limit
# GitHub maps security-severity to its levels: > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "3.0"}
LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note"}
CLASSES = ("public", "internal", "confidential", "restricted")
CHECKOV_POLICY_INDEX = "https://www.checkov.io/5.Policy%20Index/terraform.html"


def build(findings: Iterable[Finding], repo_root: Path, policy: PolicyMap | None = None,
          category: str = DEFAULT_CATEGORY) -> dict[str, Any]:
    """The SARIF log of one scan: failed findings only (skipped ones never reach this function's caller)."""
    findings = list(findings)
    try:
        return _build(findings, repo_root, policy, category)
    finally:  # the caches hold one scan's paths and a few of its files
        relative_path.cache_clear()
        _lines_of.cache_clear()


def _build(findings: list[Finding], repo_root: Path, policy: PolicyMap | None, category: str) -> dict[str, Any]:
    rules = [_our_rule(spec, policy.severity_of(spec.id) if policy else spec.severity)
             for spec in CATALOGUE.values()]
    builtin_ids = sorted({finding.check_id for finding in findings if finding.check_id not in CATALOGUE})
    rules += [_builtin_rule(next(f for f in findings if f.check_id == check_id)) for check_id in builtin_ids]
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    outside = sorted({str(f.location.path) for f in findings if relative_path(f.location.path, repo_root) is None})
    if len(findings) > MAX_RESULTS:
        print(f"data-handling: warning: {len(findings)} results; code scanning accepts at most {MAX_RESULTS} per run: "
              "split the scan by root (one category each)", file=sys.stderr)
    if outside:
        print(f"data-handling: warning: {len(outside)} file(s) with findings lie outside the repository root "
              f"{one_line(repo_root)} (e.g. {one_line(outside[0])}); their SARIF locations are absolute and code "
              "scanning cannot show them: pass --repo-root", file=sys.stderr)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "automationDetails": {"id": category},
            "columnKind": "utf16CodeUnits",
            "results": [_result(finding, index[finding.check_id], repo_root) for finding in findings],
        }],
    }


def write(document: dict[str, Any], path: Path | None) -> None:
    """Write the SARIF to `path` (its directory is created; a symlink is refused, never followed), or to
    stdout."""
    # Streamed: the same text as json.dumps, without holding it whole beside the document (7 MB at 3,500 findings).
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False)
    destinations.write_chunks(path, itertools.chain(encoder.iterencode(document), ("\n",)))


def security_severity(severity: str) -> str:
    return SECURITY_SEVERITY[severity.upper()]


def concerned_class(spec: CheckSpec) -> str | None:
    """The data class a check is about, if its name or clause names one ("A Confidential data store ...")."""
    text = f"{spec.name} {spec.clause.section}".lower()
    return next((name for name in reversed(CLASSES) if re.search(rf"\b{name}\b", text)), None)


def concerned_classes(spec: CheckSpec) -> list[str]:
    """Every data class a check's name or clause names, most sensitive first ("Confidential or Restricted")."""
    text = f"{spec.name} {spec.clause.section}".lower()
    return [name for name in reversed(CLASSES) if re.search(rf"\b{name}\b", text)]


def _our_rule(spec: CheckSpec, severity: str) -> dict[str, Any]:
    tags = ["security", "data-handling", *concerned_classes(spec), spec.clause.section]
    text, markdown = _help(spec)
    return {
        "id": spec.id,
        "name": _identifier(spec.name),
        "shortDescription": {"text": _sentence(spec.name)},
        "fullDescription": {"text": f"{_sentence(spec.name)} It enforces the {_sentence(spec.clause.cite())}"},
        "help": {"text": text, "markdown": markdown},
        "helpUri": spec.guideline,
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {"security-severity": security_severity(severity), "tags": tags},
    }


def _help(spec: CheckSpec) -> tuple[str, str]:
    clause = spec.clause
    examples = check_docs.examples(spec.id)
    fails_when = check_docs.fails_when(spec.id)
    text = [_sentence(spec.name), "", f"Policy: {clause.cite()}", clause.url, "", f"Fix: {spec.fix}"]
    markdown = [f"**{_sentence(spec.name)}**", "", f"Policy, [{clause.section}]({clause.url}):", "",
                f"> {clause.quote}", ""]
    if fails_when:
        markdown += ["**It fails when**", "", fails_when, ""]
    markdown += [f"**Fix:** {spec.fix}", ""]
    for title, snippets in (("Fails", examples.failing if examples else ()),
                            ("Passes", examples.passing if examples else ())):
        if not snippets:
            continue
        text += ["", f"{title}:"] + [_indent(snippet.text) for snippet in snippets]
        markdown += [f"**{title}:**", ""]
        for snippet in snippets:
            markdown += ([f"```{snippet.language}", snippet.text, "```", ""] if snippet.language
                         else [f"- {snippet.text}", ""])
    text += ["", f"Documentation: {spec.guideline}"]
    markdown += [f"Documentation: [{spec.id}]({spec.guideline})"]
    return "\n".join(text), "\n".join(markdown)


def _builtin_rule(finding: Finding) -> dict[str, Any]:
    """A checkov built-in check, with what checkov knows of it: its name, categories, guideline, severity."""
    check = _registered_check(finding.check_id)
    categories = sorted({str(getattr(c, "value", c)).lower() for c in getattr(check, "categories", None) or ()})
    guideline = finding.guideline or getattr(check, "guideline", None)
    help_uri = guideline if guideline and guideline.startswith("https://") else CHECKOV_POLICY_INDEX
    name = _sentence(finding.check_name)
    rule: dict[str, Any] = {
        "id": finding.check_id,
        "name": _identifier(finding.check_name),
        "shortDescription": {"text": name},
        "fullDescription": {"text": f"{name} A checkov built-in check, run with --with-builtin-checks."},
        "help": {"text": f"{name}\n\nCheckov built-in check {finding.check_id}; see {help_uri}",
                 "markdown": f"**{name}**\n\nCheckov built-in check `{finding.check_id}`: see [its documentation]"
                             f"({help_uri})."},
        "helpUri": help_uri,
        "defaultConfiguration": {"level": LEVEL.get(finding.severity or "", "warning")},
        "properties": {"tags": ["security", "checkov", *categories]},
    }
    if finding.severity in SECURITY_SEVERITY:  # without a severity GitHub shows the level; none is invented
        rule["properties"]["security-severity"] = security_severity(finding.severity)
    return rule


def _registered_check(check_id: str) -> Any:
    try:
        from checkov.terraform.checks.resource.registry import resource_registry

        return resource_registry.get_check_by_id(check_id)
    except Exception:  # metadata only: a rule without categories is still a valid rule
        return None


def _result(finding: Finding, rule_index: int, repo_root: Path) -> dict[str, Any]:
    uri = _uri(finding.location.path, repo_root)
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index,
        "level": LEVEL.get(finding.severity or "", "warning"),
        "message": {"text": _sentence("\n".join(finding.details) or f"{finding.check_name}: {finding.resource}")},
        "locations": [_physical(finding.location, uri)],
        "partialFingerprints": {"dataHandlingFinding/v1": _fingerprint(finding.check_id, finding.resource, uri)},
        "properties": {"resource": finding.resource},
    }
    definition = finding.definition
    if definition and relative_path(definition.path, repo_root) is not None:
        related = _physical(definition, _uri(definition.path, repo_root))
        related.update(id=1, message={"text": f"{finding.resource} is defined here."})
        result["relatedLocations"] = [related]
    return result


def _physical(location: Location, uri: str) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": location.start_line, "endLine": location.end_line}
    snippet = _snippet(location)
    if snippet:
        region["snippet"] = {"text": snippet}
    return {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}


def _snippet(location: Location, max_lines: int = 60) -> str | None:
    """The located lines, so the alert shows the code even where the file cannot be opened."""
    try:
        stat = location.path.stat()
        lines = _lines_of(location.path, stat.st_mtime_ns, stat.st_size)
    except OSError:
        return None
    end = min(location.end_line, location.start_line + max_lines - 1)
    return "".join(lines[location.start_line - 1:end]) or None


# A file's results come together, and a file holds many (8,000 resources: 3,535 results in 43 files): each file
# is read and split once, not once per result; keyed by its modification time and size, as read for each result.
@functools.lru_cache(maxsize=4)
def _lines_of(path: Path, mtime_ns: int, size: int) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)


# Every result resolves its file's path (and the definition's) against the repository root: once per path.
relative_path = functools.lru_cache(maxsize=4096)(_uncached_relative_path)


def _uri(path: Path, repo_root: Path) -> str:
    relative = relative_path(path, repo_root)
    return quote(relative) if relative is not None else path.resolve().as_uri()


def _fingerprint(*parts: str) -> str:
    """Stable across line moves: the check, the resource address and the file, not the line."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _sentence(text: str) -> str:
    """The text ending in a full stop (SARIF viewers and the multitool expect sentences); spacing within a
    line is normalised, line breaks are kept."""
    text = "\n".join(" ".join(line.split()) for line in text.strip().splitlines())
    return text if text.endswith((".", "!", "?", '."')) else f"{text}."


def _identifier(text: str) -> str:
    """A Pascal-case identifier for a rule's `name`: "A KMS key protecting ..." -> "KmsKeyProtecting..."."""
    words = re.findall(r"[A-Za-z0-9]+", text.replace("'", ""))
    return "".join(word.capitalize() for word in words if word.lower() not in ("a", "an", "the"))


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())
