"""Terraform itself as the oracle.

Real plans (tests/fixtures/plans/terraform/, written by tests/plans/terraform_plan.py with the Terraform binary
and the AWS provider v5 mirror) give the same results as their source; and where Terraform is on the machine,
the region the model gives each provider configuration is the one Terraform's `data "aws_region"` reports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, build_model, outcomes, run_checkov
from data_handling.model.hcl import inputs
from data_handling.model.infrastructure import region_value
from data_handling.model.values import Known

sys.path.insert(0, str(Path(__file__).resolve().parent / "plans"))
from terraform_plan import PLANS, ROOTS, available, oracle_regions

POLICY = FIXTURES / "evaluator" / "policy_map.yaml"
# A plan records variables but not locals: a provider whose region is a local is unknown on the plan, and the
# check fails closed there. (check, address) -> (on the source, on the plan)
KNOWN_DIFFERENCES = {
    "evaluator_workspace_coalesce": {("CKV_DH_101", "aws_s3_bucket.reports"): ("passed", "failed")},
    # The policy's Resource is the bucket's ARN, known only after apply: the plan shows the whole jsonencode'd
    # policy as unknown, so CKV_DH_103 cannot read its aws:PrincipalOrgID condition there and fails closed.
    "ckv_dh_105_plan_parity": {("CKV_DH_103", "aws_s3_bucket_policy.contracts"): ("passed", "failed")},
    "evaluator_policy_documents": {
        # The module writes the bucket's ARN into the merged document with replace(): unknown until apply on the
        # plan, so the plan cannot show the policy and the check fails closed there.
        ("CKV_DH_103", "module.orders.aws_s3_bucket_policy.this"): ("passed", "failed"),
    },
}


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_real_plan_gives_the_same_results_as_the_source(name: str):
    source, plan = ROOTS[name], PLANS / f"{name}.json"
    assert json.loads(plan.read_text())["format_version"], "not a terraform show -json plan"
    _, from_source, _ = run_checkov(source, POLICY, check="CKV_DH_10*")
    _, from_plan, stderr = run_checkov(plan, POLICY, "--repo-root-for-plan-enrichment", str(source),
                                       check="CKV_DH_10*", framework="terraform_plan")
    assert "Traceback" not in stderr
    assert from_plan, "the plan scan produced no data-handling results"
    expected = outcomes(from_source)
    for (check_id, address), (on_source, on_plan) in KNOWN_DIFFERENCES.get(name, {}).items():
        assert (check_id, address, on_source) in expected, "stale KNOWN_DIFFERENCES entry"
        expected = (expected - {(check_id, address, on_source)}) | {(check_id, address, on_plan)}
    assert outcomes(from_plan) == expected


def _model_regions(root: Path) -> dict[str | None, str | None]:
    infra = build_model(root)
    found: dict[str | None, str | None] = {}
    for (_, module, local_name), block in infra._providers.items():
        if module or not local_name.startswith("aws"):
            continue
        region = region_value(block.get("region"), block.describe())
        alias = local_name.split(".", 1)[1] if "." in local_name else None
        found[alias] = region.value if isinstance(region, Known) else None
    return found


@pytest.mark.skipif(not available(), reason="needs the terraform binary and an AWS provider mirror (TF_PLUGIN_DIR)")
@pytest.mark.parametrize(("name", "workspace", "variables"), [
    ("evaluator_count_zero", None, ()),
    ("evaluator_workspace_coalesce", None, ()),
    ("evaluator_workspace_coalesce", "staging", ()),
    ("evaluator_workspace_coalesce", None, (("region_override", "ca-central-1"),)),
    ("evaluator_tf_json_provider", None, ()),
    ("evaluator_variables", None, ()),
    ("evaluator_variables", None, (("region", "us-west-2"),)),
])
def test_model_regions_agree_with_terraform(name, workspace, variables, monkeypatch):
    root = ROOTS[name]
    if workspace:
        monkeypatch.setenv(inputs.ENV_WORKSPACE, workspace)
    monkeypatch.setenv(inputs.ENV_VARS, json.dumps([list(pair) for pair in variables]))
    arguments = tuple(item for name_, value in variables for item in ("-var", f"{name_}={value}"))
    expected = oracle_regions(root, workspace=workspace, arguments=arguments)
    assert expected, "terraform reported no provider region"
    assert _model_regions(root) == expected


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_root_outputs_are_the_values_terraform_plans(name: str):
    """Every root output Terraform knows at plan time (policy documents rendered to JSON, replace() of them, ...)
    is the value the model evaluates, to the character."""
    from data_handling.model.expressions import budget
    from data_handling.model.hcl.evaluator import Tree

    planned = json.loads((PLANS / f"{name}.json").read_text())["planned_values"].get("outputs") or {}
    known = {output: entry["value"] for output, entry in planned.items() if "value" in entry}
    tree = Tree(str(ROOTS[name]), None, inputs.ScanInputs())
    with budget(tree.budget):
        evaluated = {output: tree.modules[""].output(output) for output in known}
    assert evaluated == known
    if name == "evaluator_policy_documents":
        assert set(known) == {"layered_json", "layered_minified_json", "orders_combined_json", "logs_combined_json",
                              "partners_policy"}


def test_a_policy_made_from_a_document_is_read_from_the_configuration_beside_the_plan(monkeypatch):
    """The plan shows `replace(data.aws_iam_policy_document.archive.json, "_READER_", "*")` as unknown, with the
    references of `policy = data.aws_iam_policy_document.archive.json`: only the configuration tells them apart.
    With --repo-root-for-plan-enrichment the written expression decides; without it the document is read as written
    (the documented gap)."""
    from data_handling.model.plan_source import build_from_plan, load_plan

    def policy(plan: str, address: str, argv: list[str]):
        monkeypatch.setattr(sys, "argv", argv)
        path = PLANS / f"{plan}.json"
        infra = build_from_plan(load_plan(str(path)), str(path))
        (record,) = [r for r in infra.resources if r.address == address]
        return record.get("policy"), [label for label, target in record.references if target.mode == "data"]

    plan, root = "evaluator_policy_documents", str(ROOTS["evaluator_policy_documents"])
    written, documents = policy(plan, "aws_s3_bucket_policy.archive", ["checkov", "--repo-root-for-plan-enrichment",
                                                                        root])
    assert '"AWS": "*"' in written and "${aws_s3_bucket.archive.arn}/*" in written
    assert documents == []  # the text is the policy now, not the document it was made from
    as_planned, documents = policy(plan, "aws_s3_bucket_policy.archive", ["checkov"])
    assert as_planned == "data.aws_iam_policy_document.archive.json" and documents == ["policy"]
    # a document used as it is stays the document (its statements keep their data source's name and line)
    plan, root = "ckv_dh_105_plan_parity", str(ROOTS["ckv_dh_105_plan_parity"])
    direct, documents = policy(plan, "aws_s3_bucket_policy.orders",
                               ["checkov", f"--repo-root-for-plan-enrichment={root}"])
    assert direct == "data.aws_iam_policy_document.orders.json" and documents == ["policy"]
