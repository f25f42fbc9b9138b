"""`data-handling scan --output sarif` on real scans: valid SARIF 2.1.0 (both vendored schemas, the SARIF
multitool with GitHub's rules), the metadata code scanning shows, and locations relative to the repository
root wherever the scan was started."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from jsonschema import validators

from conftest import FIXTURES, REPO
from data_handling.policy.catalogue import CATALOGUE
from test_sample_infra import STACKS, annotated

SCHEMAS = Path(__file__).resolve().parent / "schemas"
SEVERITY_SCORES = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "3.0"}
CLASS_WORDS = ("public", "internal", "confidential", "restricted")


def scan(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DATA_HANDLING_POLICY_MAP"}
    return subprocess.run([sys.executable, "-m", "data_handling.cli", "scan", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def sarif_runs(tmp_path_factory) -> dict[str, dict]:
    """sample_infra scanned from the repository root (relative path, ./policy_map.yaml) and from another
    directory (absolute paths, SARIF to a relative --sarif-file)."""
    out = tmp_path_factory.mktemp("sarif")
    from_root = scan("sample_infra", "--output", "sarif", "--output-file-path", str(out / "root"), cwd=REPO)
    assert from_root.returncode == 1, from_root.stderr
    elsewhere = out / "elsewhere"
    elsewhere.mkdir()
    from_elsewhere = scan(str(REPO / "sample_infra"), "--policy-map", str(REPO / "policy_map.yaml"),
                          "--output", "sarif", "--sarif-file", "reports/scan.sarif", cwd=elsewhere)
    assert from_elsewhere.returncode == 1, from_elsewhere.stderr
    return {"root": json.loads((out / "root" / "results.sarif").read_text()),
            "elsewhere": json.loads((elsewhere / "reports" / "scan.sarif").read_text())}


@pytest.fixture(scope="module")
def waiver_sarif(tmp_path_factory) -> dict:
    """A fixture with a waived, an inline-skipped and an expired-waiver bucket, plus the built-in checks."""
    out = tmp_path_factory.mktemp("waivers")
    done = scan(str(FIXTURES / "ckv_dh_100" / "tags"), "--policy-map", str(FIXTURES / "policy_map.yaml"),
                "--with-builtin-checks", "--sarif-file", str(out / "w.sarif"), "--sarif-category", "dh/fixtures",
                cwd=out)
    assert done.returncode == 1, done.stderr
    return json.loads((out / "w.sarif").read_text())


def _validator(schema_file: str):
    schema = json.loads((SCHEMAS / schema_file).read_text())
    cls = validators.validator_for(schema)
    if schema_file == "sarif-2.1.0.json":
        # (the upload copy nests region's anyOf under "properties", which its own metaschema rejects; the
        # upload action validates with it all the same, so we do too)
        cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def all_documents(sarif_runs, waiver_sarif) -> list[dict]:
    return [sarif_runs["root"], sarif_runs["elsewhere"], waiver_sarif]


@pytest.mark.parametrize("schema_file", ["sarif-2.1.0.json", "sarif-2.1.0-github-upload.json"])
def test_sarif_validates_against_both_schemas(sarif_runs, waiver_sarif, schema_file):
    validator = _validator(schema_file)
    for document in all_documents(sarif_runs, waiver_sarif):
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
        assert not errors, errors[:5]


def test_the_same_findings_wherever_the_scan_started(sarif_runs):
    def essence(document):
        return sorted((r["ruleId"], r["properties"]["resource"], r["message"]["text"],
                       json.dumps(r["locations"], sort_keys=True)) for r in document["runs"][0]["results"])

    assert essence(sarif_runs["root"]) == essence(sarif_runs["elsewhere"])


def test_results_are_exactly_the_annotated_violations(sarif_runs):
    results = sarif_runs["root"]["runs"][0]["results"]
    assert {(r["ruleId"], r["properties"]["resource"]) for r in results} == set().union(
        *(annotated(stack) for stack in STACKS))
    for result in results:
        lines = result["message"]["text"].splitlines()
        assert lines[0].startswith("Found: ") and lines[1].startswith("Policy: ") and lines[2].startswith("Fix: ")


def test_github_requirements_on_rules(sarif_runs, waiver_sarif):
    for document in all_documents(sarif_runs, waiver_sarif):
        assert len(document["runs"]) == 1
        for rule in document["runs"][0]["tool"]["driver"]["rules"]:
            for key in ("id", "name"):
                assert isinstance(rule[key], str) and rule[key], (rule["id"], key)
            for key in ("shortDescription", "fullDescription"):
                assert rule[key]["text"].strip(), (rule["id"], key)
            assert rule["help"]["text"].strip() and rule["help"]["markdown"].strip(), rule["id"]
            assert urlsplit(rule["helpUri"]).scheme == "https", rule["id"]
            properties = rule["properties"]
            assert "security" in properties["tags"], rule["id"]
            if rule["id"] in CATALOGUE or "security-severity" in properties:
                score = properties["security-severity"]
                assert isinstance(score, str) and 0.1 <= float(score) <= 10.0, (rule["id"], score)


def test_github_requirements_on_results(sarif_runs, waiver_sarif):
    for document in all_documents(sarif_runs, waiver_sarif):
        run = document["runs"][0]
        rules = run["tool"]["driver"]["rules"]
        assert run["results"], "the scans have findings"
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["message"]["text"].strip()
            assert "suppressions" not in result
            assert result["level"] in ("error", "warning", "note")
            for location in result["locations"] + result.get("relatedLocations", []):
                physical = location["physicalLocation"]
                uri = physical["artifactLocation"]["uri"]
                assert not urlsplit(uri).scheme and not uri.startswith("/") and ".." not in uri.split("/"), uri
                assert (REPO / unquote(uri)).is_file(), uri
                region = physical["region"]
                assert 1 <= region["startLine"] <= region["endLine"], region


def test_rules_cover_the_catalogue_with_stable_ids_and_metadata(sarif_runs):
    rules = sarif_runs["root"]["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(CATALOGUE)  # every check, catalogue order; no built-ins
    for rule in rules:
        spec = CATALOGUE[rule["id"]]
        assert rule["shortDescription"]["text"].rstrip(".") == spec.name
        assert spec.clause.quote in rule["fullDescription"]["text"]
        assert rule["helpUri"] == spec.guideline
        assert rule["properties"]["security-severity"] == SEVERITY_SCORES[spec.severity]
        tags = rule["properties"]["tags"]
        assert spec.clause.section in tags
        named = [word for word in CLASS_WORDS if re.search(rf"\b{word}\b", f"{spec.name} {spec.clause.section}",
                                                           re.IGNORECASE)]
        assert set(named) <= set(tags)
        markdown, text = rule["help"]["markdown"], rule["help"]["text"]
        assert spec.fix in markdown and spec.fix in text
        assert spec.clause.quote in markdown
        # a failing and a passing example, from the check's doc or its docstring
        assert "**Fails:**" in markdown and "**Passes:**" in markdown, rule["id"]
        assert "\nFails:\n" in text and "\nPasses:\n" in text, rule["id"]


def test_one_run_with_a_category(sarif_runs, waiver_sarif):
    assert sarif_runs["root"]["runs"][0]["automationDetails"]["id"] == "data-handling/"
    assert waiver_sarif["runs"][0]["automationDetails"]["id"] == "dh/fixtures"


def test_module_resources_are_located_at_their_module_call(sarif_runs):
    results = [r for r in sarif_runs["root"]["runs"][0]["results"]
               if r["properties"]["resource"].startswith("module.globex_eu_copy.")]
    assert results
    stack_file = REPO / "sample_infra/stacks/tenant-globex/main.tf"
    call_line = next(number for number, line in enumerate(stack_file.read_text().splitlines(), 1)
                     if line.startswith('module "globex_eu_copy"'))
    for result in results:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "sample_infra/stacks/tenant-globex/main.tf"
        assert physical["region"]["startLine"] == call_line
        defined = result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert defined.startswith("sample_infra/modules/tenant_data/")
    # each resource keeps its own identity although they share the call's line
    assert len({r["partialFingerprints"]["dataHandlingFinding/v1"] for r in results}) == len(results)


def test_waived_and_skipped_findings_are_not_results(waiver_sarif):
    run = waiver_sarif["runs"][0]
    ours = {r["properties"]["resource"] for r in run["results"] if r["ruleId"] == "CKV_DH_100"}
    assert "aws_s3_bucket.waiver_expired" in ours
    assert not ours & {"aws_s3_bucket.waived", "aws_s3_bucket.inline_skip"}


def test_builtin_findings_carry_sane_metadata(waiver_sarif):
    run = waiver_sarif["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    builtins = {r["ruleId"] for r in run["results"] if not r["ruleId"].startswith("CKV_DH_")}
    assert builtins and "CKV_AWS_144" not in builtins
    for rule_id in builtins:
        rule = rules[rule_id]
        assert rule["shortDescription"]["text"] and rule["help"]["text"] and rule["helpUri"].startswith("https://")
        assert "checkov" in rule["properties"]["tags"]


def test_sarif_multitool_with_github_rules_finds_no_errors(sarif_runs, waiver_sarif, tmp_path):
    from node_tools import multitool

    binary = multitool()
    environment = dict(os.environ, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1")
    for name, document in {"root": sarif_runs["root"], "elsewhere": sarif_runs["elsewhere"],
                           "builtins": waiver_sarif}.items():
        source, report = tmp_path / f"{name}.sarif", tmp_path / f"{name}.validation.sarif"
        source.write_text(json.dumps(document))
        done = subprocess.run([binary, "validate", "--rule-kind", "Sarif;Ghas", "--level", "Error;Warning;Note",
                               "--log", "ForceOverwrite", "--output", str(report), str(source)],
                              capture_output=True, text=True, timeout=300, env=environment)
        # The multitool exits 0 even when it finds errors: its own SARIF output is the verdict.
        assert report.is_file(), done.stdout + done.stderr
        validation = json.loads(report.read_text())["runs"][0]
        problems = [f"{r['ruleId']}: {r['message'].get('arguments')}" for r in validation.get("results", [])
                    if r.get("level", "warning") in ("error", "warning")]
        assert not problems, (name, problems[:10])
        notifications = [n for invocation in validation.get("invocations", [])
                         for n in invocation.get("toolExecutionNotifications", []) if n.get("level") == "error"]
        assert not notifications, notifications


def test_a_plan_scan_points_at_the_terraform_source(tmp_path):
    plan, sources = FIXTURES / "plans" / "ckv_dh_101.json", FIXTURES / "ckv_dh_101"
    if not plan.is_file():
        pytest.skip("no plan fixture")
    done = scan(str(plan), "--repo-root-for-plan-enrichment", str(sources), "--policy-map",
                str(FIXTURES / "policy_map.yaml"), "--sarif-file", str(tmp_path / "plan.sarif"), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    document = json.loads((tmp_path / "plan.sarif").read_text())
    assert not list(_validator("sarif-2.1.0.json").iter_errors(document))
    results = document["runs"][0]["results"]
    assert results
    for result in results:
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"].startswith("tests/fixtures/ckv_dh_101/")
        resource_type, name = result["properties"]["resource"].split(".")[-2:]
        assert physical["region"]["snippet"]["text"].startswith(f'resource "{resource_type}" "{name}"')
