"""Terraform's semantics through the real checkov CLI and the data-handling CLI: what the model resolves before
apply (null means omitted, workspace maps, coalesce, instances that do not exist, [each.key] bindings,
.tf.json providers, variables by precedence, modules that are not on disk)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, outcomes, run_checkov

CASES = FIXTURES / "evaluator"
POLICY = CASES / "policy_map.yaml"


class _Run:
    def __init__(self) -> None:
        self.err = ""


_last = _Run()


def main(argv: list[str]) -> int:
    """The data-handling CLI as a pipeline runs it: its own process."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATA_HANDLING_", "TF_"))}
    completed = subprocess.run([sys.executable, "-m", "data_handling.cli", *argv], capture_output=True, text=True,
                               env=env, timeout=600)
    _last.err = completed.stderr
    assert "Traceback" not in completed.stderr
    return completed.returncode


def _ours(case: str, *extra: str) -> set[tuple[str, str, str]]:
    _code, results, stderr = run_checkov(CASES / case, POLICY, *extra, check="CKV_DH_100,CKV_DH_101,CKV_DH_102")
    assert "Traceback" not in stderr
    return outcomes(results)


def test_null_region_is_omitted_through_modules():
    assert _ours("null_region") == {
        ("CKV_DH_100", "aws_dynamodb_table.sessions", "passed"),
        ("CKV_DH_101", "aws_dynamodb_table.sessions", "passed"),  # region = null: the provider's eu-west-1
        ("CKV_DH_100", "module.bucket.aws_s3_bucket.this", "passed"),
        ("CKV_DH_101", "module.bucket.aws_s3_bucket.this", "passed"),
        ("CKV_DH_100", "module.pinned.aws_s3_bucket.this", "passed"),
        ("CKV_DH_101", "module.pinned.aws_s3_bucket.this", "failed"),  # a real region argument: us-east-1
    }
    # replica over `var.region == null ? [] : [...]`: no replica, so no copy to judge
    assert not any(check == "CKV_DH_102" and result == "failed" for check, _, result in _ours("null_region"))


def test_workspace_map_and_coalesce_resolve_the_provider_region():
    assert _ours("workspace_coalesce") == {
        ("CKV_DH_100", "aws_s3_bucket.reports", "passed"),
        ("CKV_DH_101", "aws_s3_bucket.reports", "passed"),
    }


def test_instances_that_do_not_exist_are_not_reported():
    # aws_s3_bucket.dr (count = true && false ? 1 : 0), module.wrapper (for_each = {}) and module.disabled
    # (create = false) would all sit in ap-southeast-2: none of them exists, so none is judged.
    assert _ours("count_zero") == {
        ("CKV_DH_100", "module.home.aws_s3_bucket.this[0]", "passed"),
        ("CKV_DH_101", "module.home.aws_s3_bucket.this[0]", "passed"),
    }


def test_each_key_references_bind_to_their_own_instance():
    found = _ours("each_key")
    assert {f for f in found if f[0] == "CKV_DH_102"} == {
        ("CKV_DH_102", 'aws_s3_bucket_replication_configuration.this["orders"]', "passed"),
        ("CKV_DH_102", 'aws_s3_bucket_replication_configuration.this["exports"]', "passed"),
    }
    assert ("CKV_DH_101", 'aws_s3_bucket.source["exports"]', "failed") in found  # us-east-1 is not home


def test_classes_from_merged_tags_in_for_each_resources_and_module_arguments():
    assert _ours("tags_for_each") == {
        ("CKV_DH_100", 'aws_sqs_queue.this["events"]', "passed"),  # internal: residency does not apply
        ("CKV_DH_100", 'aws_sqs_queue.this["refunds"]', "passed"),
        ("CKV_DH_101", 'aws_sqs_queue.this["refunds"]', "failed"),  # each.value.tags makes it confidential
        ("CKV_DH_100", "module.reports.aws_s3_bucket.this", "passed"),
        ("CKV_DH_100", "module.ledger.aws_s3_bucket.this", "passed"),
        ("CKV_DH_101", "module.ledger.aws_s3_bucket.this", "failed"),
    }


def test_a_conditional_log_destination_over_the_modules_own_group():
    root = CASES / "conditional_log_destination"
    _code, results, stderr = run_checkov(root, root / "policy_map.yaml", check="CKV_DH_30*")
    assert "Traceback" not in stderr
    assert outcomes(results) == {
        ("CKV_DH_303", "module.local_logs.aws_apigatewayv2_stage.this", "passed"),  # its own, local log group
        ("CKV_DH_301", "module.central_logs.aws_apigatewayv2_stage.this", "passed"),  # the format lists its fields
        ("CKV_DH_302", "module.central_logs.aws_apigatewayv2_stage.this", "failed"),  # "ip" is not approved
        ("CKV_DH_303", "module.central_logs.aws_apigatewayv2_stage.this", "failed"),  # client IPs flow centrally
    }


def test_no_provider_block_leaves_the_region_unknown_but_not_the_class():
    assert _ours("no_provider") == {
        ("CKV_DH_100", "aws_s3_bucket.exports", "passed"),  # classification.default: no default_tags can apply
        ("CKV_DH_101", "aws_s3_bucket.exports", "failed"),  # the region would come from the environment
    }


def test_provider_block_in_tf_json_is_read():
    assert _ours("tf_json_provider") == {
        ("CKV_DH_100", "aws_s3_bucket.logs", "passed"),
        ("CKV_DH_101", "aws_s3_bucket.logs", "passed"),
    }


def test_auto_tfvars_win_over_terraform_tfvars():
    assert ("CKV_DH_101", "aws_s3_bucket.ledger", "passed") in _ours("variables")


@pytest.mark.parametrize(("arguments", "expected"), [
    (["workspace_coalesce"], 0),
    (["workspace_coalesce", "--workspace", "staging"], 1),  # local.regions["staging"] = us-west-2
    (["variables"], 0),
    (["variables", "--var", "region=us-west-2"], 1),  # --var wins over every var file
])
def test_cli_passes_variables_and_workspace_as_terraform_plan_would(arguments, expected):
    path, *rest = arguments
    assert main(["scan", str(CASES / path), "--policy-map", str(POLICY), *rest]) == expected


def test_cli_var_file_comes_after_the_automatic_files(tmp_path: Path):
    var_file = tmp_path / "prod.tfvars"
    var_file.write_text('region = "ap-south-1"\n')
    assert main(["scan", str(CASES / "variables"), "--policy-map", str(POLICY), "--var-file", str(var_file)]) == 1
    assert main(["scan", str(CASES / "variables"), "--policy-map", str(POLICY), "--var-file",
                 str(tmp_path / "missing.tfvars")]) == 2


def test_a_registry_module_that_is_not_installed_makes_the_scan_untrusted(tmp_path: Path):
    root = tmp_path / "root"
    shutil.copytree(CASES / "tf_json_provider", root)
    (root / "label.tf").write_text('module "label" {\n  source  = "cloudposse/label/null"\n  version = "0.25.0"\n}\n')
    assert main(["scan", str(root), "--policy-map", str(POLICY)]) == 2
    assert "run terraform init" in _last.err
    assert main(["scan", str(root), "--policy-map", str(POLICY), "--allow-missing-modules"]) == 0
    assert "--allow-missing-modules" in _last.err


def test_a_module_under_terraform_modules_is_read_and_checked(tmp_path: Path):
    root = tmp_path / "root"
    shutil.copytree(CASES / "tf_json_provider", root)
    installed = root / ".terraform" / "modules" / "label"
    installed.mkdir(parents=True)
    (installed / "main.tf").write_text('output "tags" {\n  value = { data_class = "internal" }\n}\n'
                                       'resource "aws_s3_bucket" "this" {\n  bucket = "label-bucket"\n'
                                       '  region = "us-east-1"\n}\n')
    (root / ".terraform" / "modules" / "modules.json").write_text(
        '{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"label","Source":"registry.terraform.io/cloudposse/'
        'label/null","Version":"0.25.0","Dir":".terraform/modules/label"}]}')
    (root / "label.tf").write_text('module "label" {\n  source  = "cloudposse/label/null"\n  version = "0.25.0"\n}\n')
    (root / "main.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "app-logs"\n'
                                  "  tags   = module.label.tags\n}\n")
    from data_handling.model.hcl.evaluator import Tree
    from data_handling.model.hcl.inputs import ScanInputs

    tree = Tree(str(root), None, ScanInputs())
    assert tree.missing_modules == []
    assert tree.instances["aws_s3_bucket.logs"].config["tags"] == [{"data_class": "internal"}]
    # The module's own resources are handed to the checks too (checkov loads it through our module loader).
    _code, results, _ = run_checkov(root, POLICY, check="CKV_DH_100,CKV_DH_101,CKV_DH_102")
    assert outcomes(results) == {
        ("CKV_DH_100", "aws_s3_bucket.logs", "passed"),
        ("CKV_DH_100", "module.label.aws_s3_bucket.this", "passed"),
        ("CKV_DH_101", "module.label.aws_s3_bucket.this", "failed"),  # confidential by default, in us-east-1
    }
    assert main(["scan", str(root), "--policy-map", str(POLICY)]) == 1


def test_a_root_the_evaluator_cannot_read_fails_every_check_on_it(monkeypatch):
    """Fail closed: checkov's own rendering is never judged in place of the evaluation."""
    from conftest import build_model
    from data_handling.checkov_adapter.base import DataHandlingCheck
    from data_handling.model.hcl import source
    from data_handling.rules import tenant_home_region

    class Broken:
        def __init__(self, *args, **kwargs):
            raise ValueError("an evaluator defect")

    monkeypatch.setattr(source, "Tree", Broken)
    monkeypatch.setenv("DATA_HANDLING_POLICY_MAP", str(POLICY))
    infra = build_model(CASES / "tf_json_provider")
    root = str(CASES / "tf_json_provider")
    assert infra.failed_roots == {root: "ValueError: an evaluator defect"}
    bucket = next(r for r in infra.resources if r.address == "aws_s3_bucket.logs")
    check = DataHandlingCheck("CKV_DH_101", tenant_home_region.evaluate, ("aws_s3_bucket",))
    check.entity_path = f"{bucket.file_path}:aws_s3_bucket.logs"
    from data_handling.checkov_adapter import state

    monkeypatch.setattr(state, "model_for_conf", lambda graph, conf: infra)
    from data_handling.checkov_adapter import base

    monkeypatch.setattr(base, "model_for_conf", lambda graph, conf: infra)
    from checkov.common.models.enums import CheckResult

    assert check.scan_resource_conf(bucket.config) == CheckResult.FAILED
    assert "could not be evaluated (ValueError: an evaluator defect)" in check.details[0]


def test_copies_found_by_a_name_known_only_after_apply_and_dsql_peering():
    found = {f for f in _ours("../ckv_dh_102/copies_by_name") if f[0] == "CKV_DH_102"}
    assert found == {
        ("CKV_DH_102", "aws_s3_bucket_replication_configuration.to_dr", "failed"),  # eu-west-1 -> eu-central-1
        ("CKV_DH_102", "aws_s3_bucket_replication_configuration.near", "passed"),  # the same unknown name, in-region
        ("CKV_DH_102", "aws_dsql_cluster_peering.ledger", "failed"),
    }
    _code, results, _ = run_checkov(FIXTURES / "ckv_dh_102" / "copies_by_name", POLICY, check="CKV_DH_102")
    details = {r.resource: " ".join(r.details) for r in results if r.result == "failed"}
    assert "lands in eu-central-1" in details["aws_s3_bucket_replication_configuration.to_dr"]
    dsql = details["aws_dsql_cluster_peering.ledger"]
    assert "aws_dsql_cluster.ledger_peer" in dsql and "eu-central-1" in dsql
    assert 'witness_region of aws_dsql_cluster_peering.ledger (main.tf:73) = "eu-west-2"' in dsql


def test_bucket_policies_written_as_text_from_policy_documents():
    """aws_iam_policy_document JSON merged through source_policy_documents (compact() of conditional .json) and
    rewritten with replace() of placeholders, in a module and in the root: the rules read the resulting text."""
    _code, results, stderr = run_checkov(CASES / "policy_documents", CASES / "organisation_policy_map.yaml",
                                         check="CKV_DH_103,CKV_DH_105")
    assert "Traceback" not in stderr
    policies = {r for r in outcomes(results) if "_policy." in r[1]}
    module_policy = "module.{}.aws_s3_bucket_policy.this"
    assert policies == {
        ("CKV_DH_103", module_policy.format("orders"), "passed"),  # a named role of the organisation
        ("CKV_DH_105", module_policy.format("orders"), "passed"),
        ("CKV_DH_103", module_policy.format("exports"), "failed"),  # Principal "*" merged into the module's policy
        ("CKV_DH_105", module_policy.format("exports"), "failed"),
        ("CKV_DH_103", module_policy.format("logs"), "passed"),  # the S3 logging service
        ("CKV_DH_105", module_policy.format("logs"), "passed"),
        ("CKV_DH_103", "aws_s3_bucket_policy.partners", "passed"),  # "*" narrowed to the organisation by replace()
        ("CKV_DH_105", "aws_s3_bucket_policy.partners", "passed"),
        ("CKV_DH_103", "aws_s3_bucket_policy.archive", "failed"),  # replace() writes "*" as the principal
        ("CKV_DH_105", "aws_s3_bucket_policy.archive", "failed"),
    }
    assert not any(result == "failed" for check, address, result in outcomes(results) if "_policy." not in address)
    details = {(r.check_id, r.resource): " ".join(r.details) for r in results}
    exports = details[("CKV_DH_103", module_policy.format("exports"))]
    assert 'statement "PublicRead" of policy of module.exports.aws_s3_bucket_policy.this' in exports
    assert "wildcard principal * with no condition" in exports
    assert "wildcard principal * with no condition" in details[("CKV_DH_103", "aws_s3_bucket_policy.archive")]
