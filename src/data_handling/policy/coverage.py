"""The coverage map (issue 12, item 5): every sentence of the policy document, and what enforces it.

Each statement of policy/data-handling.md is listed once, in document order, with a status:

- `enforced`: the named checks fail any Terraform that breaks it (a note may say how);
- `partly enforced`: the named checks cover part of it; the reason says what is left to people or process;
- `planned`: not enforced yet; a planned check (not in CATALOGUE yet) will (part of) it;
- `procedural`: Terraform cannot show it; the reason says who or what owns it;
- `not a requirement`: nothing can break it (a description, a permission, the renderer demo); the reason says so.

How the document is split into statements (`policy_statements`), decided so that nothing a reader sees on
the rendered page can change unnoticed:

- the front matter (title, sort, tags) is page metadata and is ignored;
- headings are not statements: each statement carries the heading it stands under as its section, so a renamed
  heading, or a sentence moved to another section (in "What we never do", "Store full card numbers" means the
  opposite of what it says alone), no longer matches;
- paragraphs, list items and raw HTML blocks are split into sentences (raw HTML is rendered as written, so the
  demo `<div>` is mapped, as `not a requirement`, rather than ignored: policy text put into a `<div>` must not
  escape the map);
- in a table, each body cell but the first is one statement, "<row>: <column>: <cell>" (e.g.
  "Confidential: Storage: Tenant region only"); the header names the columns;
- text is matched after normalising: whitespace collapsed, links to their text, bold and emphasis markers and
  HTML tags removed; code spans keep their backticks. Wording, punctuation and case are significant.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from data_handling.policy.catalogue import CATALOGUE, POLICY_DOCUMENT, CheckSpec

ENFORCED, PARTLY, PLANNED, PROCEDURAL, NOT_A_REQUIREMENT = (
    "enforced", "partly enforced", "planned", "procedural", "not a requirement")
STATUSES = (ENFORCED, PARTLY, PLANNED, PROCEDURAL, NOT_A_REQUIREMENT)
STATUS_MEANING = {
    ENFORCED: "the checks fail Terraform that breaks it",
    PARTLY: "the checks cover part of it; the reason says what is left to people or process",
    PLANNED: "a planned check will enforce it; it is not in the catalogue yet",
    PROCEDURAL: "Terraform cannot show it; the reason says who owns it",
    NOT_A_REQUIREMENT: "nothing can break it: a description, a permission, a demo",
}
# Checks the open issue plans (docs: ../shared/spec/checks.md). A planned ID must not be in CATALOGUE: when one
# lands, the statements that name it must say `enforced` or `partly enforced` (entry_problems).
PLANNED_CHECKS: dict[str, str] = {
}
REASON_LIMIT = 160  # "one line"
_CHECK_ID = re.compile(r"CKV_DH_\d{3}")


class CoverageError(Exception):
    """The policy document cannot be read."""


@dataclass(frozen=True)
class Statement:
    """One sentence (or table cell) of the policy document."""

    section: str
    text: str
    kind: str  # paragraph, list item, table cell, html, code block
    line: int

    @property
    def key(self) -> tuple[str, str]:
        return self.section, self.text

    def describe(self) -> str:
        return f'{POLICY_DOCUMENT}:{self.line} ({self.kind} in "{self.section}"): "{self.text}"'


@dataclass(frozen=True)
class Entry:
    """What enforces one statement."""

    section: str
    statement: str
    status: str
    checks: tuple[str, ...] = ()  # catalogued checks that enforce it (or part of it) today
    planned: tuple[str, ...] = ()  # planned check IDs, not in CATALOGUE yet
    reason: str = ""  # one line: why procedural, what is left, what the planned check will do

    @property
    def key(self) -> tuple[str, str]:
        return self.section, self.statement

    def as_dict(self) -> dict[str, object]:
        return {"section": self.section, "statement": self.statement, "status": self.status,
                "checks": list(self.checks), "planned": list(self.planned), "reason": self.reason}


# --- the map -------------------------------------------------------------------------------------------------

_TITLE = "Data handling"
_CLASSES = "Classification"
_REGION = "What stays in the tenant's region"
_ACCESS = "Access requests"
_NEVER = "What we never do"
_BREACH = "In a breach"
_AUDITS = "Audits"
_OWNER_CLASSIFIES = ("which class a kind of data belongs to is its owner's call: Terraform shows a store's "
                     "declared class (CKV_DH_100), not what it holds")

COVERAGE: tuple[Entry, ...] = (
    Entry(_TITLE, "How customer data moves, who can touch it, and what we never do with it.", NOT_A_REQUIREMENT,
          reason="introduces the document; the sections below state the rules"),

    Entry(_CLASSES, "Every piece of data we handle falls into one of four buckets:", PARTLY, ("CKV_DH_100",),
          reason="CKV_DH_100 covers the data stores Terraform creates; data held elsewhere (SaaS tools, documents) "
          "is classified by its owners"),
    Entry(_CLASSES, "Public: Example: Marketing copy, API spec", PROCEDURAL, reason=_OWNER_CLASSIFIES),
    Entry(_CLASSES, "Public: Storage: Anywhere", NOT_A_REQUIREMENT,
          reason="a permission nothing can break: the residency and vault checks leave Public stores alone"),
    Entry(_CLASSES, "Public: Access: Everyone", NOT_A_REQUIREMENT,
          reason="a permission nothing can break: no check restricts access to Public data"),
    Entry(_CLASSES, "Internal: Example: This intranet, OKRs", PROCEDURAL, reason=_OWNER_CLASSIFIES),
    Entry(_CLASSES, "Internal: Storage: SSO-gated tools", PROCEDURAL,
          reason="SSO is set up in the identity provider and the tools themselves; no check judges where Internal "
          "data is kept"),
    Entry(_CLASSES, "Internal: Access: All employees", PROCEDURAL,
          reason="who is an employee is the identity provider's directory, not infrastructure"),
    Entry(_CLASSES, "Confidential: Example: Customer email, order data, payment metadata", PROCEDURAL,
          reason=_OWNER_CLASSIFIES),
    Entry(_CLASSES, "Confidential: Storage: Tenant region only", ENFORCED, ("CKV_DH_101", "CKV_DH_102"),
          reason="CKV_DH_101: each store in its tenant's home region; CKV_DH_102: no copy into another region"),
    Entry(_CLASSES, "Confidential: Access: Role-gated, audited", PARTLY, ("CKV_DH_103", "CKV_DH_104"),
          reason="CKV_DH_103: not readable by everyone; CKV_DH_104: data access logged; which roles may read is "
          "the data owner's call"),
    Entry(_CLASSES, "Restricted: Example: PAN, CVV (not stored), employee compensation", PARTLY, ("CKV_DH_203",),
          reason="CKV_DH_203: no store declares a PAN or CVV field; classing compensation data Restricted is its "
          "owner's call"),
    Entry(_CLASSES, "Restricted: Storage: Vault, KMS-encrypted", ENFORCED, ("CKV_DH_201", "CKV_DH_202"),
          reason="CKV_DH_201: vault resource types only; CKV_DH_202: a rotated, single-region customer-managed key"),
    Entry(_CLASSES, "Restricted: Access: Two-person rule, logged", PARTLY, ("CKV_DH_204", "CKV_DH_104"),
          reason="CKV_DH_204: no key policy lets one principal both administer and decrypt; CKV_DH_104: access is "
          "logged; the second person's approval is a process"),

    Entry(_REGION, "A tenant's `Confidential` data does not leave its home region.", PARTLY,
          ("CKV_DH_101", "CKV_DH_102"),
          reason="stores (CKV_DH_101) and copies (CKV_DH_102) are checked; data an application or a person moves at "
          "run time is not visible in Terraform"),
    Entry(_REGION, "There is no cross-region read replica of customer PII.", ENFORCED, ("CKV_DH_102",),
          reason="every replica and copy mechanism of Confidential or Restricted data; a copy whose class is "
          "unknown fails too"),
    Entry(_REGION, "Telemetry that flows centrally is de-identified at source and listed explicitly:", PARTLY,
          ("CKV_DH_301", "CKV_DH_302", "CKV_DH_303"),
          reason="the field names central sinks declare and raw logs are checked; that applications fill the "
          "fields with de-identified values is not"),
    Entry(_REGION, "Request counts, latencies, error rates, by route + status", ENFORCED,
          ("CKV_DH_301", "CKV_DH_302"),
          reason="request_count, latency_ms, error_rate, route and status are on telemetry.approved_fields"),
    Entry(_REGION, "Aggregate billing totals, by tenant id (not by customer id)", ENFORCED,
          ("CKV_DH_301", "CKV_DH_302"),
          reason="billing_total and tenant_id are approved; customer_id is not, so CKV_DH_302 fails it"),
    Entry(_REGION, "Webhook delivery success rates, by endpoint host (not by URL path)", ENFORCED,
          ("CKV_DH_301", "CKV_DH_302"),
          reason="delivery_success_rate and endpoint_host are approved; a URL path field, or an access log's "
          "`$context.path`, fails CKV_DH_302"),
    Entry(_REGION, "What does not flow centrally: customer emails, names, addresses, order line items, payment "
          "tokens, IP addresses.", PARTLY, ("CKV_DH_302", "CKV_DH_303"),
          reason="unapproved fields fail CKV_DH_302, raw logs with IPs CKV_DH_303; a masked log group may still "
          "forward order line items and payment tokens"),

    Entry(_ACCESS, "Customer-data access for support requires:", PROCEDURAL,
          reason="support access is granted in the support desk and the access tool (the steps below), not in "
          "infrastructure"),
    Entry(_ACCESS, "An open support ticket from the customer's verified contact.", PROCEDURAL,
          reason="tickets and verified contacts live in the support desk"),
    Entry(_ACCESS, "A manager approval click in the access tool.", PROCEDURAL,
          reason="the access tool records approvals; Terraform does not"),
    Entry(_ACCESS, "Approvals expire after 24 hours.", PROCEDURAL, reason="the access tool expires approvals"),
    Entry(_ACCESS, "The query runs against the tenant's region.", PARTLY, ("CKV_DH_101", "CKV_DH_102"),
          reason="the data exists only in the tenant's region (CKV_DH_101, CKV_DH_102); that the support query goes "
          "there is the access tool's"),
    Entry(_ACCESS, "The audit log captures who, when, what, why.", PARTLY, ("CKV_DH_104",),
          reason="CKV_DH_104: every Confidential store's data access is logged (who, when, what); the why is the "
          "ticket the access tool records"),
    Entry(_ACCESS, "Raw HTML passes through the renderer — this paragraph demonstrates that.", NOT_A_REQUIREMENT,
          reason="a demonstration of the page renderer, not policy"),

    Entry(_NEVER, "Sell, lease, share, or otherwise transmit customer data to third parties for marketing.",
          PARTLY, ("CKV_DH_105",),
          reason="grants, shares and copies of Confidential data to accounts outside the organisation fail; "
          "sale or lease deals, and exports by code, are contracts and reviews"),
    Entry(_NEVER, "Train models on identifiable customer data.", PARTLY, ("CKV_DH_106",),
          reason="training resources in Terraform may not read Confidential or Restricted stores; training run from "
          "notebooks, pipelines or jobs outside Terraform is not visible"),
    Entry(_NEVER, "(Aggregate, anonymised telemetry is fair game for internal product analytics.)",
          NOT_A_REQUIREMENT,
          reason="an exception to the rule before it: CKV_DH_106 lets training read Internal or Public stores and "
          "central telemetry"),
    Entry(_NEVER, "Store full card numbers (PAN).", PARTLY, ("CKV_DH_203",),
          reason="declared fields are checked (schemas, attributes, the data_fields tag); card numbers written into "
          "free text or objects are not"),
    Entry(_NEVER, "Stripe holds the cards; we hold a tokenised handle.", PARTLY, ("CKV_DH_203",),
          reason="CKV_DH_203 lets only tokenised card fields through; that Stripe holds the cards is a contract"),

    Entry(_BREACH, "The first action is the incident response runbook.", PROCEDURAL,
          reason="incident response is people following the runbook"),
    Entry(_BREACH, "The second is the legal hold and notification — Legal owns this and will direct.", PROCEDURAL,
          reason="Legal owns notification"),

    Entry(_AUDITS, "We run a third-party penetration test annually (currently with Trail of Bits) and an internal "
          "red-team exercise quarterly.", PROCEDURAL,
          reason="an annual third-party penetration test is a contract, not infrastructure; so is the quarterly "
          "red team"),
    Entry(_AUDITS, "Findings land in the security channel within 30 days of the engagement closing.", PROCEDURAL,
          reason="the security team's reporting process, outside infrastructure"),
)


# --- the document --------------------------------------------------------------------------------------------

def policy_path() -> Path:
    """The policy document: packaged beside this module in the wheel, or the repository's in a development
    install."""
    here = Path(__file__).resolve()
    for candidate in (here.with_name("data-handling.md"), here.parents[3] / POLICY_DOCUMENT):
        if candidate.is_file():
            return candidate
    raise CoverageError(f"the policy document {POLICY_DOCUMENT} is not installed")


def policy_text() -> str:
    path = policy_path()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CoverageError(f"cannot read the policy document {path}: {error}") from None


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s+(.*)$")
_FENCE = re.compile(r"^\s{0,3}(```+|~~~+)")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?$")
_HTML_START = re.compile(r"^\s{0,3}<[A-Za-z!/]")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<!--.*?-->")
_STRONG = re.compile(r"(\*\*|__)(.+?)\1")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
# A sentence ends at . ! or ? (and any closing bracket or quote) before whitespace and a capital, an opening
# bracket, a quote or a code span. Common abbreviations do not end one.
_SENTENCE_END = re.compile(r"[.!?][)\]\"']*(?=\s+[A-Z(\[\"'`])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "incl.")


def plain(text: str) -> str:
    """Markdown inline text as matched: links to their text, tags and bold/emphasis markers removed, whitespace
    collapsed. Code spans keep their backticks."""
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\1", text)
    return " ".join(text.split())


def sentences(text: str) -> list[tuple[int, str]]:
    """`text` (raw Markdown) split into sentences: (offset in `text`, sentence)."""
    found, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        words = text[start:match.end()].split()
        if words and words[-1].lower() in _ABBREVIATIONS:
            continue
        found.append((start, text[start:match.end()]))
        start = match.end()
    found.append((start, text[start:]))
    return [(offset + len(piece) - len(piece.lstrip()), piece) for offset, piece in found if piece.strip()]


def policy_statements(text: str) -> list[Statement]:
    """The statements of a policy document, in order (see the module docstring for the rules)."""
    lines = text.splitlines()
    statements: list[Statement] = []
    section = ""
    index = _after_front_matter(lines)

    def add(kind: str, first_line: int, raw: str) -> None:
        for offset, sentence in sentences(raw):
            if cleaned := plain(sentence):
                statements.append(Statement(section, cleaned, kind, first_line + raw.count("\n", 0, offset)))

    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
        elif heading := _HEADING.match(line):
            section = plain(heading.group(2))
            index += 1
        elif fence := _FENCE.match(line):  # a code block is one statement, shown as written
            end = _closing_fence(lines, index, fence.group(1))
            body = " ".join(" ".join(lines[index + 1:end]).split())
            if body:
                statements.append(Statement(section, body, "code block", index + 1))
            index = end + 1
        elif line.lstrip().startswith("|"):
            end = _block_end(lines, index, lambda candidate: candidate.lstrip().startswith("|"))
            statements += _table_statements(section, lines[index:end], index + 1)
            index = end
        elif _LIST_ITEM.match(line):
            end = _block_end(lines, index + 1)  # indented or lazy continuation lines
            add("list item", index + 1, "\n".join([_LIST_ITEM.sub(r"\1", line), *lines[index + 1:end]]))
            index = end
        else:
            kind = "html" if _HTML_START.match(line) else "paragraph"
            end = _block_end(lines, index + 1)
            add(kind, index + 1, "\n".join(part.lstrip("> ") if kind == "paragraph" else part
                                           for part in lines[index:end]))
            index = end
    return statements


def _after_front_matter(lines: Sequence[str]) -> int:
    if lines and lines[0].strip() == "---":
        for index in range(1, len(lines)):
            if lines[index].strip() in ("---", "..."):
                return index + 1
    return 0


def _closing_fence(lines: Sequence[str], start: int, fence: str) -> int:
    for index in range(start + 1, len(lines)):
        if lines[index].strip().startswith(fence[0] * len(fence)):
            return index
    return len(lines)


def _block_end(lines: Sequence[str], start: int, continues: Callable[[str], bool] | None = None) -> int:
    """The index after the block that starts at `start`: up to a blank line, or a line that is not `continues`
    (default: one that does not start another block)."""
    continues = continues or (lambda candidate: not _starts_block(candidate))
    index = start
    while index < len(lines) and lines[index].strip() and continues(lines[index]):
        index += 1
    return index


def _starts_block(line: str) -> bool:
    return bool(_HEADING.match(line) or _LIST_ITEM.match(line) or _FENCE.match(line)
                or line.lstrip().startswith("|"))


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return [plain(cell.replace("\\|", "|")) for cell in re.split(r"(?<!\\)\|", row)]


def _table_statements(section: str, rows: Sequence[str], first_line: int) -> list[Statement]:
    """Each body cell but the row's first: "<row>: <column>: <cell>"."""
    header = _cells(rows[0])
    found = []
    for number, row in enumerate(rows[1:], start=first_line + 1):
        if _TABLE_SEPARATOR.match(row.strip()):
            continue
        cells = _cells(row)
        label = cells[0]
        for column, cell in enumerate(cells[1:], start=1):
            name = header[column] if column < len(header) else f"column {column + 1}"
            if cell:
                found.append(Statement(section, f"{label}: {name}: {cell}", "table cell", number))
    return found


# --- consistency ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Differences:
    unmapped: tuple[Statement, ...]  # in the document, not in the map
    stale: tuple[Entry, ...]  # in the map, not in the document

    def messages(self) -> list[str]:
        return ([f"{statement.describe()} is not in the coverage map" for statement in self.unmapped]
                + [f'the coverage map lists "{entry.statement}" under "{entry.section}", which '
                   f"{POLICY_DOCUMENT} does not say (edited, moved or removed?)" for entry in self.stale])


def differences(statements: Iterable[Statement], entries: Iterable[Entry] = COVERAGE) -> Differences:
    statements, entries = list(statements), list(entries)
    mapped = {entry.key for entry in entries}
    present = {statement.key for statement in statements}
    return Differences(tuple(s for s in statements if s.key not in mapped),
                       tuple(e for e in entries if e.key not in present))


def entry_problems(entries: Sequence[Entry] = COVERAGE,
                   catalogue: Mapping[str, CheckSpec] = CATALOGUE) -> list[str]:
    """What is wrong with the map itself, whatever the document says: statuses and their fields, check IDs,
    planned checks that have landed, catalogued checks the map never names, duplicates."""
    problems = []
    for key, count in Counter(entry.key for entry in entries).items():
        if count > 1:
            problems.append(f'"{key[1]}" under "{key[0]}" is mapped {count} times')
    for entry in entries:
        where = f'"{entry.statement}" ({entry.section})'
        if entry.status not in STATUSES:
            problems.append(f"{where}: unknown status {entry.status!r} (one of {', '.join(STATUSES)})")
        needs_checks = entry.status in (ENFORCED, PARTLY)
        if needs_checks and not entry.checks:
            problems.append(f"{where}: {entry.status} names no check")
        if not needs_checks and entry.checks:
            problems.append(f"{where}: {entry.status} names checks {', '.join(entry.checks)}")
        if entry.status == PLANNED and not entry.planned:
            problems.append(f"{where}: planned names no planned check")
        if entry.status in (ENFORCED, PROCEDURAL, NOT_A_REQUIREMENT) and entry.planned:
            problems.append(f"{where}: {entry.status} names planned checks {', '.join(entry.planned)}")
        if entry.status != ENFORCED and not entry.reason.strip():
            problems.append(f"{where}: {entry.status} needs a one-line reason")
        if "\n" in entry.reason or len(entry.reason) > REASON_LIMIT:
            problems.append(f"{where}: the reason must be one line of at most {REASON_LIMIT} characters")
        for check_id in entry.checks:
            if check_id not in catalogue:
                problems.append(f"{where}: {check_id} is not in the catalogue")
        for check_id in entry.planned:
            if check_id in catalogue:
                problems.append(f"{where}: {check_id} is in the catalogue now, but the map still calls it planned: "
                                f"list it under checks and make the status enforced or partly enforced")
            elif check_id not in PLANNED_CHECKS or not _CHECK_ID.fullmatch(check_id):
                problems.append(f"{where}: {check_id} is not a planned check ({', '.join(PLANNED_CHECKS)})")
    named = {check_id for entry in entries for check_id in entry.checks}
    problems += [f"{check_id} enforces no statement of the coverage map" for check_id in catalogue
                 if check_id not in named]
    return problems


def problems(text: str | None = None) -> list[str]:
    """Every way the map and the policy document (default: the installed one) disagree, or the map is wrong."""
    found = differences(policy_statements(policy_text() if text is None else text))
    return found.messages() + entry_problems()


def totals(entries: Iterable[Entry] = COVERAGE) -> dict[str, int]:
    counted = Counter(entry.status for entry in entries)
    return {status: counted.get(status, 0) for status in STATUSES}
