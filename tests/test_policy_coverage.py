"""The coverage map (issue 12, item 5): every statement of policy/data-handling.md is mapped to the checks that
enforce it or marked with why not, nothing else is mapped, and docs/policy-coverage.md is current."""

from __future__ import annotations

import json

from conftest import REPO
from data_handling.output import coverage_report
from data_handling.policy import coverage
from data_handling.policy.catalogue import CATALOGUE
from data_handling.policy.coverage import COVERAGE, PLANNED, PLANNED_CHECKS, Entry, policy_statements

POLICY_FILE = REPO / "policy" / "data-handling.md"
POLICY = POLICY_FILE.read_text(encoding="utf-8")
STATEMENTS = policy_statements(POLICY)


def _find(text: str) -> coverage.Statement:
    [found] = [statement for statement in STATEMENTS if statement.text == text]
    return found


# --- completeness ----------------------------------------------------------------------------------------------

def test_the_coverage_map_reads_the_repository_policy():
    assert coverage.policy_text() == POLICY


def test_every_statement_of_the_policy_is_mapped():
    found = coverage.differences(STATEMENTS)
    assert not found.unmapped, "add these to COVERAGE in src/data_handling/policy/coverage.py:\n" + "\n".join(
        found.messages())


def test_the_map_lists_nothing_the_policy_does_not_say():
    found = coverage.differences(STATEMENTS)
    assert not found.stale, "\n".join(found.messages())


def test_the_map_follows_the_policy_in_order():
    assert [entry.key for entry in COVERAGE] == list(dict.fromkeys(statement.key for statement in STATEMENTS))


def test_the_map_is_well_formed():
    assert coverage.entry_problems() == []
    assert coverage.problems() == []


def test_every_catalogued_check_enforces_at_least_one_statement():
    named = {check_id for entry in COVERAGE for check_id in entry.checks}
    assert set(CATALOGUE) <= named
    without_100 = tuple(e if "CKV_DH_100" not in e.checks else Entry(e.section, e.statement, coverage.PROCEDURAL,
                                                                        reason="x") for e in COVERAGE)
    assert "CKV_DH_100 enforces no statement of the coverage map" in coverage.entry_problems(without_100)


def test_check_ids_exist():
    assert {check_id for entry in COVERAGE for check_id in entry.checks} <= set(CATALOGUE)
    typo = (*COVERAGE[:1], Entry("Audits", "x", coverage.ENFORCED, ("CKV_DH_999",)))
    assert any("CKV_DH_999 is not in the catalogue" in problem for problem in coverage.entry_problems(typo))


def test_each_check_is_mapped_where_its_catalogue_clause_quotes_the_policy():
    for spec in CATALOGUE.values():
        quote = coverage.plain(spec.clause.quote)
        section = spec.clause.section.split(" (", 1)[0]
        quoted = [entry for entry in COVERAGE if entry.section == section
                  and (quote in entry.statement or entry.statement in quote)]
        assert quoted, f"{spec.id}: no statement of the map holds its clause {quote!r}"
        assert any(spec.id in entry.checks for entry in quoted), (spec.id, [e.statement for e in quoted])


def test_statuses_carry_what_they_need():
    for entry in COVERAGE:
        assert entry.status in coverage.STATUSES
        if entry.status in (coverage.ENFORCED, coverage.PARTLY):
            assert entry.checks, entry
        else:
            assert not entry.checks, entry
        if entry.status != coverage.ENFORCED:
            assert entry.reason.strip() and "\n" not in entry.reason, entry
    bad = (Entry("Audits", "x", coverage.PROCEDURAL), Entry("Audits", "y", coverage.PLANNED, reason="r"))
    problems = coverage.entry_problems(bad)
    assert any('"x" (Audits): procedural needs a one-line reason' in p for p in problems)
    assert any('"y" (Audits): planned names no planned check' in p for p in problems)


# --- planned checks --------------------------------------------------------------------------------------------

def test_the_checks_of_issue_12_have_landed_and_none_is_planned():
    planned = {check_id for entry in COVERAGE for check_id in entry.planned}
    assert planned == set(PLANNED_CHECKS) == set()
    assert {"CKV_DH_103", "CKV_DH_104", "CKV_DH_105", "CKV_DH_106"} <= set(CATALOGUE)
    assert [e.statement for e in COVERAGE if "CKV_DH_106" in e.checks] == [
        "Train models on identifiable customer data."]


def test_a_planned_check_that_lands_in_the_catalogue_fails_the_map(monkeypatch):
    monkeypatch.setitem(coverage.PLANNED_CHECKS, "CKV_DH_107", "a future check")
    entries = (*COVERAGE, Entry("Audits", "z", PLANNED, planned=("CKV_DH_107",), reason="CKV_DH_107 will"))
    assert not coverage.entry_problems(entries)  # planned and not catalogued: fine
    landed = {**CATALOGUE, "CKV_DH_107": CATALOGUE["CKV_DH_100"]}
    problems = coverage.entry_problems(entries, catalogue=landed)
    stale = [p for p in problems if "CKV_DH_107 is in the catalogue now, but the map still calls it planned" in p]
    assert {p.split('"')[1] for p in stale} == {"z"}
    unknown = (*COVERAGE, Entry("Audits", "w", PLANNED, planned=("CKV_DH_108",), reason="r"))
    assert any("CKV_DH_108 is not a planned check" in p for p in coverage.entry_problems(unknown))


def test_table_fits_120_columns_and_has_the_totals():
    table = coverage_report.render("table")
    assert max(len(line) for line in table.splitlines()) <= 120
    totals = coverage.totals()
    assert ("Totals: " + ", ".join(f"{status} {count}" for status, count in totals.items())
            + f" ({len(COVERAGE)} statements)") in table
    assert sum(totals.values()) == len(COVERAGE)
    assert "  procedural         -                   Approvals expire after 24 hours." in table
    assert "  partly enforced    CKV_DH_103          Confidential: Access: Role-gated, audited" in table
    assert "Planned checks" not in table  # none is planned now


def test_markdown_has_the_generated_header_and_totals():
    markdown = coverage_report.render("markdown")
    assert markdown.startswith("<!-- Generated by `data-handling coverage --output markdown --output-file "
                               "docs/policy-coverage.md`")
    for status, count in coverage.totals().items():
        assert f"| {status} | {count} |" in markdown
    assert ("| Approvals expire after 24 hours. | procedural | — | the access tool expires approvals |"
            in markdown)
    assert "[CKV_DH_103](checks/CKV_DH_103.md), [CKV_DH_104](checks/CKV_DH_104.md) |" in markdown
    assert "## Planned checks" not in markdown
    for check_id in CATALOGUE:
        assert (REPO / "docs" / "checks" / f"{check_id}.md").is_file()


def test_docs_policy_coverage_is_current():
    committed = (REPO / coverage_report.DOC_FILE).read_text(encoding="utf-8")
    assert committed == coverage_report.render("markdown"), (
        f"{coverage_report.DOC_FILE} is out of date: regenerate it with `{coverage_report.COMMAND}` "
        f"(or `{coverage_report.MODULE_COMMAND}`)")


# --- run_coverage (what `data-handling coverage` calls) ---------------------------------------------------------

def test_run_coverage_writes_the_file(tmp_path, capsys):
    target = tmp_path / "out" / "coverage.md"
    assert coverage_report.run_coverage("markdown", str(target)) == 0
    assert target.read_text(encoding="utf-8") == coverage_report.render("markdown")
    assert coverage_report.run_coverage("json", None) == 0
    assert json.loads(capsys.readouterr().out)[0]["section"] == "Data handling"


def test_run_coverage_refuses_an_unwritable_file(tmp_path, capsys):
    assert coverage_report.run_coverage("table", str(tmp_path)) == 2
    error = capsys.readouterr().err
    assert error == f"data-handling: error: cannot write {tmp_path}: it is a directory, a file is expected\n"
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "elsewhere.txt")
    assert coverage_report.run_coverage("table", str(link)) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere.txt").exists()


def test_run_coverage_fails_closed_on_a_map_that_does_not_match(monkeypatch, capsys):
    changed = POLICY.replace("Approvals expire after 24 hours.", "Approvals expire after 48 hours.")
    monkeypatch.setattr(coverage, "policy_text", lambda: changed)
    assert coverage_report.run_coverage("table", None) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith('data-handling: error: the coverage map does not match the policy: '
                                   'policy/data-handling.md:40 (list item in "Access requests"): "Approvals expire '
                                   'after 48 hours." is not in the coverage map (and 1 more)')
    assert captured.err.count("\n") == 1


def test_run_coverage_refuses_an_unknown_format(capsys):
    assert coverage_report.run_coverage("csv", None) == 2
    assert "unknown output format 'csv'" in capsys.readouterr().err


def test_run_coverage_without_the_policy_document(monkeypatch, capsys):
    def missing() -> str:
        raise coverage.CoverageError("the policy document policy/data-handling.md is not installed")

    monkeypatch.setattr(coverage, "policy_text", missing)
    assert coverage_report.run_coverage("json", None) == 2
    assert capsys.readouterr().err == ("data-handling: error: the policy document policy/data-handling.md is not "
                                       "installed\n")


def test_the_cli_prints_the_coverage_map(tmp_path):
    """`data-handling coverage` end to end: the JSON lists every statement, the Markdown is the docs page."""
    import subprocess
    import sys

    listed = subprocess.run([sys.executable, "-m", "data_handling.cli", "coverage", "--output", "json"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == len(COVERAGE)
    page = tmp_path / "coverage.md"
    written = subprocess.run([sys.executable, "-m", "data_handling.cli", "coverage", "-o", "markdown",
                              "--output-file", str(page)], capture_output=True, text=True, timeout=120)
    assert written.returncode == 0, written.stderr
    assert page.read_text() == (REPO / "docs" / "policy-coverage.md").read_text()
    refused = subprocess.run([sys.executable, "-m", "data_handling.cli", "coverage", "--output-file", str(tmp_path)],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and refused.stderr.startswith("data-handling: error:")
    assert "Traceback" not in refused.stderr
