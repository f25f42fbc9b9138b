"""Static applicability (issue 13): each check is registered for the resource types its rule can judge.

A type left out is a silent pass, so: (a) every rule, run on every resource of every Terraform fixture, sample_infra
and every plan fixture, under several policy maps, returns an outcome only for types its check declares, and the
dispatch tables the rules read match the declared types; (b) plain checkov's results (passes included) and the
CLI's on the fixtures and sample_infra are identical to those of the checks registered for every `aws_*` resource
(the behaviour before); (c) the declared types follow the policy map in force.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from conftest import CHECKS_DIR, FIXTURES, REPO, build_model
from data_handling.policy.catalogue import CATALOGUE
from data_handling.policy.loader import parse
from data_handling.policy.schema import PolicyMap
from data_handling.rules import (
    access_audited,
    card_fields,
    key_policy,
    no_model_training,
    no_third_party_sharing,
    public_access,
    raw_logs_central,
    replication,
    store_classified,
    telemetry_fields_approved,
    telemetry_fields_listed,
    tenant_home_region,
    vault_kms,
    vault_only,
)
from data_handling.rules.applicability import RAW_LOG_TYPES, applicable_types, applies_to

ALL_AWS = "DATA_HANDLING_TEST_ALL_AWS_TYPES"
RULES = {
    "CKV_DH_100": store_classified.evaluate, "CKV_DH_101": tenant_home_region.evaluate,
    "CKV_DH_102": replication.evaluate, "CKV_DH_103": public_access.evaluate, "CKV_DH_201": vault_only.evaluate,
    "CKV_DH_202": vault_kms.evaluate,
    "CKV_DH_203": card_fields.evaluate, "CKV_DH_204": key_policy.evaluate,
    "CKV_DH_301": telemetry_fields_listed.evaluate, "CKV_DH_302": telemetry_fields_approved.evaluate,
    "CKV_DH_303": raw_logs_central.evaluate, "CKV_DH_104": access_audited.evaluate,
    "CKV_DH_105": no_third_party_sharing.evaluate, "CKV_DH_106": no_model_training.evaluate,
}
SAMPLE_MAP = REPO / "policy_map.yaml"
MAPS = [SAMPLE_MAP, FIXTURES / "policy_map.yaml", *sorted(FIXTURES.glob("ckv_dh_*/**/policy_map*.yaml")),
        *sorted((FIXTURES / "evaluator").glob("**/policy_map.yaml"))]


def _policy(path: Path) -> PolicyMap:
    return parse(path.read_text(), str(path))[0]


def _edited(path: Path, edit) -> tuple[PolicyMap, str]:
    """A policy map edited as data (the models are frozen): the map and its YAML text."""
    data = yaml.safe_load(path.read_text())
    edit(data)
    text = yaml.safe_dump(data)
    return parse(text, "edited.yaml")[0], text


def _restricted_default(data: dict) -> None:
    data.setdefault("classification", {})["default"] = "restricted"
    data["classification"]["rules"] = []


def _stores_edited(data: dict) -> None:
    classification = data.setdefault("classification", {})
    stores = classification.get("store_types") or list(_policy(SAMPLE_MAP).classification.store_types)
    classification["store_types"] = [t for t in stores if t != "aws_neptune_cluster"] + ["aws_lightsail_bucket"]
    vaults = data.setdefault("vaults", {})
    vaults["resource_types"] = [*(vaults.get("resource_types") or ["aws_secretsmanager_secret", "aws_ssm_parameter"]),
                                "aws_lightsail_bucket"]


def _policies() -> list[tuple[str, PolicyMap]]:
    found = [(str(path.relative_to(REPO)), _policy(path)) for path in MAPS]
    # Every store Restricted by default: the vault and key rules reach every store and key of the fixtures.
    restricted = _edited(SAMPLE_MAP, _restricted_default)[0]
    return [*found, ("sample map with classification.default = restricted", restricted)]


def test_every_check_is_in_the_table():
    assert set(RULES) == set(CATALOGUE)


@pytest.fixture(scope="module")
def models():
    from data_handling.model.plan_source import build_from_plan, load_plan

    built = [("tests/fixtures", build_model(FIXTURES)), ("sample_infra", build_model(REPO / "sample_infra"))]
    for plan in sorted((FIXTURES / "plans").glob("**/*.json")):
        try:
            built.append((str(plan.relative_to(REPO)), build_from_plan(load_plan(str(plan)), str(plan))))
        except Exception:  # not a plan (a fixture of a refused file): nothing for the checks to see
            continue
    return built


def test_a_rule_judges_only_the_types_its_check_declares(models):
    judged: Counter[str] = Counter()
    for policy_name, policy in _policies():
        for check_id, rule in RULES.items():
            declared = applicable_types(check_id, policy)
            for model_name, infra in models:
                for resource in infra.resources:
                    if resource.mode != "resource":
                        continue
                    if rule(resource, infra, policy) is None:
                        continue
                    judged[check_id] += 1
                    assert applies_to(declared, resource.type), (
                        f"{check_id} judges {resource.address} ({resource.type}) in {model_name} under "
                        f"{policy_name}, but declares only {declared}")
    # The fixtures reach every rule (else this test would prove nothing for it).
    assert set(judged) == set(RULES), judged


def test_raw_log_types_are_those_raw_flow_of_dispatches_on():
    source = (REPO / "src/data_handling/model/raw_logs.py").read_text()
    function = next(node for node in ast.walk(ast.parse(source))
                    if isinstance(node, ast.FunctionDef) and node.name == "raw_flow_of")
    compared: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "kind":
            for comparator in node.comparators:
                compared |= {c.value for c in ast.walk(comparator) if isinstance(c, ast.Constant)
                             and isinstance(c.value, str)}
    assert compared == set(RAW_LOG_TYPES)


def test_declared_types_follow_the_policy_map():
    policy = _policy(SAMPLE_MAP)
    assert "aws_neptune_cluster" in applicable_types("CKV_DH_100", policy)
    assert "aws_lightsail_bucket" not in applicable_types("CKV_DH_100", policy)
    custom = _edited(SAMPLE_MAP, _stores_edited)[0]
    for check_id in ("CKV_DH_100", "CKV_DH_101", "CKV_DH_201"):
        assert "aws_lightsail_bucket" in applicable_types(check_id, custom)
        assert "aws_neptune_cluster" not in applicable_types(check_id, custom)
    assert "aws_lightsail_bucket" in applicable_types("CKV_DH_202", custom)
    assert "aws_neptune_cluster" in applicable_types("CKV_DH_102", custom)  # it makes copies, whatever the map says
    # No map: every check on every aws_* resource, so each fails closed with the map's error.
    assert {applicable_types(check_id, None) for check_id in RULES} == {("aws_*",)}
    assert applicable_types("CKV_DH_203", policy) == ("aws_*",)


def _registered(policy_map: Path, extra_env: dict[str, str] | None = None) -> dict[str, list[str]]:
    """What checkov's registry holds for our checks, loaded the way checkov loads them."""
    code = textwrap.dedent(f"""
        import json
        from checkov.terraform.checks.resource.registry import resource_registry
        resource_registry.load_external_checks({str(CHECKS_DIR)!r})
        print(json.dumps({{c.id: list(c.supported_resources) for _, c in resource_registry.all_checks()
                          if c.id.startswith("CKV_DH_")}}))
    """)
    env = {**os.environ, "DATA_HANDLING_POLICY_MAP": str(policy_map), **(extra_env or {})}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_checkov_registers_the_types_of_the_map_in_force(tmp_path: Path):
    custom = tmp_path / "policy_map.yaml"
    custom.write_text(_edited(SAMPLE_MAP, _stores_edited)[1])
    registered = _registered(custom)
    assert set(registered) == set(CATALOGUE)
    assert "aws_lightsail_bucket" in registered["CKV_DH_100"]
    assert "aws_neptune_cluster" not in registered["CKV_DH_100"]
    assert registered["CKV_DH_203"] == ["aws_*"]
    # Exact types, so checkov's lookup is a dict hit; only CKV_DH_203 is a wildcard.
    assert [c for c, types in registered.items() if any("*" in t for t in types)] == ["CKV_DH_203"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: [")
    assert set(map(tuple, _registered(broken).values())) == {("aws_*",)}
    assert set(map(tuple, _registered(custom, {ALL_AWS: "1"}).values())) == {("aws_*",)}


# (directory, policy map) for the end-to-end comparison.
TARGETS = [
    (REPO / "sample_infra", SAMPLE_MAP),
    (FIXTURES / "ckv_dh_100", FIXTURES / "policy_map.yaml"),
    (FIXTURES / "ckv_dh_101", FIXTURES / "policy_map.yaml"),
    (FIXTURES / "ckv_dh_102", FIXTURES / "ckv_dh_102" / "policy_map.yaml"),
    (FIXTURES / "ckv_dh_102" / "unreadable_class",
     FIXTURES / "ckv_dh_102" / "unreadable_class" / "policy_map_default_confidential.yaml"),
    (FIXTURES / "ckv_dh_103", FIXTURES / "ckv_dh_103" / "policy_map.yaml"),
    (FIXTURES / "ckv_dh_105", FIXTURES / "ckv_dh_105" / "policy_map.yaml"),
    (FIXTURES / "ckv_dh_20x", FIXTURES / "ckv_dh_20x" / "policy_map.yaml"),
    (FIXTURES / "ckv_dh_30x", FIXTURES / "ckv_dh_30x" / "policy_map.yaml"),
    (FIXTURES / "evaluator", FIXTURES / "evaluator" / "policy_map.yaml"),
    (FIXTURES / "ckv_dh_106", FIXTURES / "ckv_dh_106" / "policy_map.yaml"),
]


def _checkov(target: Path, policy_map: Path, all_aws: bool, framework: str = "terraform"):
    """Plain checkov with our checks (its JSON lists passes too), as conftest.run_checkov runs it."""
    env = {k: v for k, v in os.environ.items() if k != ALL_AWS}
    env.update({"DATA_HANDLING_POLICY_MAP": str(policy_map), **({ALL_AWS: "1"} if all_aws else {})})
    command = [sys.executable, "-m", "checkov.main", "-d" if target.is_dir() else "-f", str(target),
               "--external-checks-dir", str(CHECKS_DIR), "--skip-download", "--framework", framework,
               "--check", "CKV_DH_*", "-o", "json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    payload = json.loads(done.stdout) if done.stdout.strip() else []
    reports = payload if isinstance(payload, list) else [payload]
    found: Counter = Counter()
    for report in reports:
        for status in ("passed_checks", "failed_checks", "skipped_checks"):
            for item in report.get("results", {}).get(status, []):
                found[(item["check_id"], item["file_path"], item["resource"], status.split("_")[0],
                       tuple(item.get("details") or ()))] += 1
    return done.returncode, found


def _cli(target: Path, policy_map: Path, all_aws: bool):
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_HANDLING_POLICY_MAP", ALL_AWS)}
    if all_aws:
        env[ALL_AWS] = "1"
    done = subprocess.run([sys.executable, "-m", "data_handling.cli", "scan", str(target), "--policy-map",
                           str(policy_map), "--output", "json"], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=600)
    payload = json.loads(done.stdout) if done.stdout.strip() else []
    reports = payload if isinstance(payload, list) else [payload]
    failed = Counter((item["check_id"], item["file_path"], item["resource"], tuple(item.get("details") or ()))
                     for report in reports for item in report["results"].get("failed_checks", []))
    counts = Counter()
    for report in reports:
        counts.update({key: report["summary"][key] for key in ("passed", "failed", "skipped")})
    return done.returncode, failed, counts, done.stderr.strip().splitlines()[-1:]


def _pair(job):
    kind, target, policy_map, framework = job
    if kind == "checkov":
        return [_checkov(target, policy_map, all_aws, framework) for all_aws in (True, False)]
    return [_cli(target, policy_map, all_aws) for all_aws in (True, False)]


def test_findings_are_those_of_the_checks_on_every_aws_resource():
    jobs = [(kind, target, policy_map, "terraform") for target, policy_map in TARGETS for kind in ("checkov", "cli")]
    jobs.append(("checkov", FIXTURES / "plans", FIXTURES / "policy_map.yaml", "terraform_plan"))
    jobs += [("checkov", plan, SAMPLE_MAP, "terraform_plan")
             for plan in sorted((FIXTURES / "plans" / "sample_infra").glob("*.json"))]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for job, (before, after) in zip(jobs, pool.map(_pair, jobs), strict=True):
            assert before == after, f"{job[0]} on {job[1]} differs"
            if job[0] == "checkov":
                assert sum(after[1].values()) > 0, job  # something was checked (passes included)
                assert {key[3] for key in after[1]} & {"passed"}, job


def _cli_with(prelude: str, target: Path, policy_map: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_HANDLING_POLICY_MAP", ALL_AWS)}
    code = textwrap.dedent(prelude) + "\nimport sys\nfrom data_handling.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run([sys.executable, "-c", code, "scan", str(target), "--policy-map", str(policy_map)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600)


def test_a_check_that_skips_its_applicable_resources_is_an_error():
    # checkov hands CKV_DH_102 nothing although the tree holds replication configurations it must judge.
    prelude = """
        from checkov.common.checks.base_check_registry import BaseCheckRegistry
        original = BaseCheckRegistry.get_checks
        BaseCheckRegistry.get_checks = lambda self, entity: [c for c in original(self, entity) if c.id != "CKV_DH_102"]
    """
    done = _cli_with(prelude, FIXTURES / "ckv_dh_102" / "s3", FIXTURES / "ckv_dh_102" / "policy_map.yaml")
    assert done.returncode == 2, done.stderr
    assert "data-handling: error: checks CKV_DH_102 loaded but never ran on the applicable" in done.stderr


def test_a_check_with_no_applicable_resource_need_not_run():
    # ckv_dh_101 holds no KMS key, vault, sink or copy: those checks never run, and that is no error.
    done = _cli_with("", FIXTURES / "ckv_dh_101", FIXTURES / "policy_map.yaml")
    assert done.returncode == 1, done.stderr
    assert "error" not in done.stderr


def test_checks_registered_for_fewer_types_than_the_map_makes_them_judge_is_an_error():
    prelude = """
        import data_handling.checkov_adapter.base as base
        base.applicable_types = lambda check_id, policy: ("aws_s3_bucket",)
    """
    done = _cli_with(prelude, FIXTURES / "ckv_dh_101", FIXTURES / "policy_map.yaml")
    assert done.returncode == 2, done.stderr
    assert "were registered for fewer resource types than the policy map" in done.stderr


def test_a_resource_checkov_drops_for_count_zero_does_not_make_its_check_idle(tmp_path: Path):
    # The real-world run (terraform-aws-vpc/examples/simple): checkov lists module.vpc.aws_flow_log.this among the
    # report's resources but, with count = 0, hands it to no check; CKV_DH_303 then never runs, and that is no error.
    (tmp_path / "main.tf").write_text(textwrap.dedent("""
        provider "aws" {
          region = "eu-west-1"
        }
        resource "aws_flow_log" "off" {
          count                = 0
          log_destination      = "arn:aws:s3:::central-logs"
          log_destination_type = "s3"
          traffic_type         = "ALL"
          vpc_id               = "vpc-123"
        }
        resource "aws_sqs_queue" "jobs" {
          tags = { data_class = "internal" }
        }
    """))
    done = _cli_with("", tmp_path, FIXTURES / "policy_map.yaml")
    assert done.returncode == 0, done.stderr
    assert "never ran" not in done.stderr
