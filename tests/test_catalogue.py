"""The catalogue cites the policy document verbatim, and every catalogued check ships as a checkov check."""

from __future__ import annotations

import re

from conftest import CHECKS_DIR, REPO
from data_handling.policy.catalogue import CATALOGUE, SEVERITIES

POLICY_TEXT = " ".join((REPO / "policy" / "data-handling.md").read_text().replace("**", "").split())


def test_every_clause_is_quoted_verbatim_from_the_policy():
    for spec in CATALOGUE.values():
        assert " ".join(spec.clause.quote.split()) in POLICY_TEXT, spec.id
        heading = spec.clause.section.split(" (", 1)[0]
        assert f"## {heading}" in (REPO / "policy" / "data-handling.md").read_text(), spec.id


def test_every_check_has_a_severity_a_fix_and_documentation():
    for spec in CATALOGUE.values():
        assert spec.severity in SEVERITIES
        assert spec.fix.strip()
        assert (REPO / "docs" / "checks" / f"{spec.id}.md").is_file(), spec.id


def test_every_catalogued_check_has_one_checkov_adapter():
    declared = {}
    for path in CHECKS_DIR.glob("dh_*.py"):
        for check_id in re.findall(r'DataHandlingCheck\(\s*"(CKV_DH_\d+)"', path.read_text()):
            assert check_id not in declared, f"{check_id} in {path.name} and {declared[check_id]}"
            declared[check_id] = path.name
    assert set(declared) == set(CATALOGUE)
