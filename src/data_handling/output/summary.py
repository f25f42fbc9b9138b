"""A Markdown summary of a scan for a pull request's job summary ($GITHUB_STEP_SUMMARY).

Findings are grouped by the policy clause they break, most severe first; each row names the resource, the
file and line (linked to the commit when run in GitHub Actions) and what was found; each check's fix follows
its table. Waived and skipped findings are listed apart, with their reasons, so a reviewer sees them too. The
data map's stores table (output/inventory.py), when given, follows in a collapsed section.

Every value that comes from the scanned code (addresses, file names, tag values, a finding's text, a waiver's
reason) is escaped (markdown_cell, code): a tag value cannot open HTML, a heading, a link, a tracking image or
close the summary's <details> in the job summary.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from data_handling.output import destinations
from data_handling.output.findings import Finding, Location, relative_path
from data_handling.policy.catalogue import CATALOGUE
from data_handling.safe_text import one_line

CELL_LIMIT = 2000  # characters of one value: a summary is at most 1 MiB, and a tag value can be any length
# What markdown_cell escapes with a backslash (see there): Markdown's inline syntax, and the parts of GitHub's
# autolinks (https://..., mailto:, www.) that a backslash breaks. An email autolink is not broken by one:
# a zero-width space after its @ is (the domain must follow the @ directly).
_MARKDOWN_SPECIAL = re.compile(r"[\\\[\]`*~$|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|:(?=//)"
                               r"|(?i:(?<=mailto)|(?<=xmpp)):|(?i:(?<=\bwww))\.")
_BLOCK_START = re.compile(r"^(\d{0,9})([#+=-]|(?<=\d)[.)])")  # a heading, a list item, a setext underline
RANK = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}
BUILTIN_GROUP = "Checkov built-in checks"
NO_SEVERITY = "-"  # built-in checks without a severity mapping


def render(failed: Iterable[Finding], skipped: Iterable[Finding], repo_root: Path, *, target: str,
           policy_map: str, severities: Mapping[str, str] | None = None,
           environment: Mapping[str, str] | None = None, data_map: str | None = None) -> str:
    """The summary. `severities` are the policy map's (overrides included); `environment` gives the GitHub
    variables used to link files to the commit (default: os.environ); `data_map` is the data map's stores table
    (inventory.stores_markdown), shown collapsed at the end."""
    failed, skipped = list(failed), list(skipped)
    links = _blob_base(os.environ if environment is None else environment)
    severities = severities or {}
    lines = ["## Data-handling checks", ""]
    if failed:
        counts = defaultdict(int)
        for finding in failed:
            counts[_severity(finding, severities)] += 1
        by_severity = ", ".join(f"{counts[s]} {s.lower()}" for s in RANK if counts.get(s))
        if counts.get(NO_SEVERITY):
            by_severity += f"{', ' if by_severity else ''}{counts[NO_SEVERITY]} without a severity"
        lines += [f"**{len(failed)} finding(s)** ({by_severity}) in {code(target)}; policy map {code(policy_map)}.",
                  ""]
    else:
        lines += [f"No findings in {code(target)}; policy map {code(policy_map)}.", ""]

    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in failed:
        groups[_group(finding)].append(finding)
    for title, members in sorted(groups.items(), key=lambda item: _group_order(item, severities)):
        lines += [f"### {title}", ""]
        spec = CATALOGUE.get(members[0].check_id)
        if spec:
            lines += [f"> {spec.clause.quote}", "", f"[Policy]({spec.clause.url})", ""]
        lines += ["| Check | Severity | Resource | Location | Found |", "|---|---|---|---|---|"]
        members.sort(key=lambda f: (RANK.get(_severity(f, severities), 9), f.check_id, str(f.location.path),
                                    f.location.start_line))
        for finding in members:
            lines.append("| " + " | ".join([
                _check_link(finding), _severity(finding, severities), code(finding.resource),
                _where(finding, repo_root, links), markdown_cell(_found(finding)),
            ]) + " |")
        lines.append("")
        for check_id in dict.fromkeys(f.check_id for f in members):
            if check_id in CATALOGUE:
                lines += [f"**Fix ({check_id}):** {CATALOGUE[check_id].fix}", ""]

    if skipped:
        lines += [f"<details><summary>{len(skipped)} waived or skipped finding(s)</summary>", "",
                  "| Check | Resource | Location | Reason |", "|---|---|---|---|"]
        for finding in skipped:
            reason = markdown_cell(finding.skip_reason or "no reason given")
            lines.append(f"| {_check_link(finding)} | {code(finding.resource)} | "
                         f"{_where(finding, repo_root, links)} | {reason} |")
        lines += ["", "</details>", ""]
    if data_map is not None:
        lines += ["<details><summary>Data map</summary>", "", data_map.strip("\n"), "", "</details>", ""]
    return "\n".join(lines)


def append(path: Path, markdown: str) -> None:
    """Append to the summary file, as GitHub expects of $GITHUB_STEP_SUMMARY (other steps may write too); a
    symlink is refused, never followed."""
    destinations.write_text(path, markdown if markdown.endswith("\n") else markdown + "\n", append=True)


def _severity(finding: Finding, severities: Mapping[str, str]) -> str:
    return severities.get(finding.check_id) or finding.severity or NO_SEVERITY


def _group(finding: Finding) -> str:
    spec = CATALOGUE.get(finding.check_id)
    return spec.clause.section if spec else BUILTIN_GROUP


def _group_order(item: tuple[str, list[Finding]], severities: Mapping[str, str]) -> tuple:
    title, members = item
    worst = min(RANK.get(_severity(f, severities), 9) for f in members)
    return (title == BUILTIN_GROUP, worst, title)


def _check_link(finding: Finding) -> str:
    return f"[{finding.check_id}]({finding.guideline})" if finding.guideline else finding.check_id


def _found(finding: Finding) -> str:
    for detail in finding.details:
        if detail.startswith("Found: "):
            return detail.removeprefix("Found: ")
    extra = [d for d in finding.details if not d.startswith(("Policy: ", "Fix: "))]
    return " ".join(extra) or finding.check_name


def _where(finding: Finding, repo_root: Path, links: str | None) -> str:
    shown = _file_line(finding.location, repo_root, links)
    if finding.definition:
        shown += f" (module call; defined at {_file_line(finding.definition, repo_root, links)})"
    return shown


def _file_line(location: Location, repo_root: Path, links: str | None) -> str:
    relative = relative_path(location.path, repo_root)
    lines = (f"{location.start_line}" if location.start_line == location.end_line
             else f"{location.start_line}-{location.end_line}")
    text = f"{relative or location.path}:{lines}"
    if relative is None or not links:
        return code(text)
    return f"[{code(text)}]({links}/{quote(relative)}#L{location.start_line}-L{location.end_line})"


def _blob_base(environment: Mapping[str, str]) -> str | None:
    server, repository, sha = (environment.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    return f"{server}/{repository}/blob/{sha}" if server and repository and sha else None


def markdown_cell(text: object) -> str:
    """Text from the scanned code made inert in a Markdown table cell or paragraph (as GitHub renders job
    summaries): on one line (line breaks become spaces, other control characters escapes), bounded; `&`, `<`
    and `>` as entities, so no HTML (`</details>`, `<img>`) and no entity opens; a backslash before every
    character that could start a link, an image, a code span, emphasis, strikethrough, math or a table cell
    (backslash, brackets, backtick, asterisk, tilde, dollar, pipe; an underscore where it can open emphasis),
    before the colon of `scheme://`, `mailto:` and the dot of `www.`, a zero-width space after `@` (GitHub's
    autolinks), and in a start that would open a heading or a list (`#`, `-`, `+`, `1.`); `>` is already an
    entity.
    Quotes are left as they are: they are special only inside an HTML attribute, and none is ever written."""
    value = one_line(" ".join(str(text).split()), limit=CELL_LIMIT)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MARKDOWN_SPECIAL.sub(r"\\\g<0>", value).replace("@", "@&#8203;")
    return _BLOCK_START.sub(r"\1\\\2", value, count=1)


def code(text: object) -> str:
    """Text as a code span inside a Markdown table cell: one line, bounded, pipes escaped (GitHub unescapes
    them in code spans too). A code span shows HTML and Markdown as written, so nothing else is escaped; the
    fence is one backtick longer than the longest run of backticks in the text."""
    value = one_line(" ".join(str(text).split()), limit=CELL_LIMIT).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", value)), default=0) + 1)
    if len(fence) > 1 or value.startswith((" ", "`")) or value.endswith((" ", "`")):
        return f"{fence} {value} {fence}"
    return f"{fence}{value}{fence}"
