"""CKV_DH_106 (no model training on identifiable customer data): end to end through the real checkov CLI on
tests/fixtures/ckv_dh_106, exact outcomes and the key phrases of each finding; unit tests of
model/training_inputs.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest

from conftest import FIXTURES, Result, outcomes, run_checkov
from data_handling.model.training_inputs import TRAINERS, training_sources
from data_handling.policy.loader import load
from data_handling.rules import no_model_training

sys.path.insert(0, str(Path(__file__).resolve().parent / "plans"))
from terraform_plan import _override, available, plugin_dir, provider_aliases

HERE = FIXTURES / "ckv_dh_106"
POLICY_MAP = HERE / "policy_map.yaml"
CHECK = "CKV_DH_106"


@cache
def _scan() -> tuple[int, tuple[Result, ...]]:
    code, results, stderr = run_checkov(HERE / "training", POLICY_MAP, check=CHECK)
    assert "Traceback" not in stderr, stderr
    return code, tuple(results)


def _details() -> dict[str, str]:
    _, results = _scan()
    return {r.resource: " ".join(r.details) for r in results if r.check_id == CHECK}


FAILED = {
    "aws_bedrock_custom_model.support_assistant",
    "aws_bedrock_custom_model.validated_on_payments",
    'aws_bedrock_custom_model.per_dataset["orders"]',
    "aws_bedrock_custom_model.from_unknown_bucket",
    "aws_bedrock_custom_model.from_unlabelled",
    "aws_bedrock_custom_model.from_partner_feedback",
    "aws_comprehend_document_classifier.ticket_router",
    "aws_comprehend_document_classifier.from_pipeline",
    "aws_comprehend_document_classifier.from_manifest",
    "module.ticket_classifier.aws_comprehend_document_classifier.this",
    "aws_comprehend_entity_recognizer.order_entities",
    "aws_comprehend_document_classifier.lake_router",
    "aws_glue_ml_transform.dedupe_customers",
    "aws_transcribe_language_model.call_centre",
    "aws_sagemaker_training_job.recommender",
}
PASSED = {
    "aws_bedrock_custom_model.capacity_forecaster",
    'aws_bedrock_custom_model.per_dataset["metrics"]',
    "aws_bedrock_custom_model.from_central_telemetry",
    "aws_bedrock_custom_model.from_telemetry_export",
    "aws_comprehend_document_classifier.intent_classifier",
    "module.metrics_classifier.aws_comprehend_document_classifier.this",
    "aws_comprehend_entity_recognizer.product_names",
    "aws_glue_ml_transform.dedupe_counts",
    "aws_transcribe_language_model.marketing_terms",
    "aws_sagemaker_training_job.capacity",
}


def test_ckv_dh_106_training_resources_read_no_confidential_or_restricted_store():
    code, results = _scan()
    assert code == 1
    assert outcomes(list(results), CHECK) == ({(CHECK, address, "failed") for address in FAILED}
                                              | {(CHECK, address, "passed") for address in PASSED})


def test_ckv_dh_106_findings_name_the_store_its_class_and_the_argument():
    details = _details()
    support = details["aws_bedrock_custom_model.support_assistant"]
    assert "aws_s3_bucket.orders (buckets.tf:1), which is confidential" in support
    assert 'training_data_config.s3_uri = "s3://acme-orders/fine-tune/v3/train.jsonl"' in support
    assert "models/" not in support  # the output location is not a source
    payments = details["aws_bedrock_custom_model.validated_on_payments"]
    assert "aws_s3_bucket.payments_audit" in payments and "restricted" in payments
    assert "validation_data_config.validator.s3_uri" in payments
    ticket = details["aws_comprehend_document_classifier.ticket_router"]
    assert 'input_data_config.s3_uri = "s3://acme-support-tickets/labelled/"' in ticket  # the variable's default
    assert "aws_s3_bucket.support_tickets" in ticket
    unknown = details["aws_bedrock_custom_model.from_unknown_bucket"]
    assert 'bucket "legacy-crm-export"' in unknown and "cannot be verified" in unknown
    assert 'data "aws_s3_bucket"' in unknown and "classification.rules" in unknown
    pipeline = details["aws_comprehend_document_classifier.from_pipeline"]
    assert "var.pipeline_corpus_uri" in pipeline and "could not be evaluated" in pipeline
    assert "has no class" in details["aws_bedrock_custom_model.from_unlabelled"]
    partner = details["aws_bedrock_custom_model.from_partner_feedback"]
    assert 'data.aws_s3_bucket.partner_feedback' in partner and 'classification rule' in partner
    assert "aws_s3_bucket.orders" in details["module.ticket_classifier.aws_comprehend_document_classifier.this"]
    entities = details["aws_comprehend_entity_recognizer.order_entities"]
    assert "module.orders_lake.aws_s3_bucket.this" in entities and "input_data_config.annotations.s3_uri" in entities
    assert "module.orders_lake.aws_s3_bucket.this" in details["aws_comprehend_document_classifier.lake_router"]
    glue = details["aws_glue_ml_transform.dedupe_customers"]
    assert "aws_glue_catalog_table.customers" in glue and "aws_s3_bucket.orders" in glue
    assert "tuning_data_s3_uri" in details["aws_transcribe_language_model.call_centre"]
    recommender = details["aws_sagemaker_training_job.recommender"]
    assert "aws_efs_file_system.feature_cache" in recommender and "file_system_id" in recommender
    _, results = _scan()
    for result in results:
        if result.result == "failed":
            assert result.details[0].startswith("Found: "), result
            assert result.details[1].startswith("Policy: ") and "Train models on identifiable customer data" \
                in result.details[1], result
            assert result.details[2].startswith("Fix: "), result


def test_ckv_dh_106_a_bucket_outside_the_scan_takes_classification_default(tmp_path):
    internal = tmp_path / "internal.yaml"
    internal.write_text(POLICY_MAP.read_text().replace("  tag_keys: [data_class]\n",
                                                        "  tag_keys: [data_class]\n  default: internal\n"))
    _, results, _ = run_checkov(HERE / "training", internal, check=CHECK)
    found = {(r.resource, r.result) for r in results}
    assert ("aws_bedrock_custom_model.from_unknown_bucket", "passed") in found
    assert ("aws_bedrock_custom_model.from_unlabelled", "passed") in found  # the default is a class too
    assert ("aws_bedrock_custom_model.support_assistant", "failed") in found
    confidential = tmp_path / "confidential.yaml"
    confidential.write_text(internal.read_text().replace("default: internal", "default: confidential"))
    _, results, _ = run_checkov(HERE / "training", confidential, check=CHECK)
    failed = {r.resource: " ".join(r.details) for r in results if r.result == "failed"}
    assert "classification.default makes confidential" in failed["aws_bedrock_custom_model.from_unknown_bucket"]
    # A central telemetry bucket is central by its name, whatever the default.
    assert "aws_bedrock_custom_model.from_central_telemetry" not in failed


# --- model/training_inputs.py -------------------------------------------------------------------------------


_TRAINING = """
provider "aws" {
  region = "eu-west-1"
}
resource "aws_s3_bucket" "corpus" {
  bucket = "corpus"
  tags   = { data_class = "internal" }
}
resource "aws_comprehend_document_classifier" "c" {
  name                 = "c"
  data_access_role_arn = "arn:aws:iam::123456789012:role/x"
  language_code        = "en"
  input_data_config {
    s3_uri      = "s3://corpus/train/"
    test_s3_uri = "s3://${aws_s3_bucket.corpus.id}/test/"
    augmented_manifests {
      s3_uri          = "s3://elsewhere/m.manifest"
      attribute_names = ["x"]
    }
  }
}
resource "aws_sagemaker_training_job" "t" {
  training_job_name = "t"
  role_arn          = "arn:aws:iam::123456789012:role/x"
  input_data_config {
    channel_name = "train"
    data_source {
      file_system_data_source {
        directory_path          = "/d"
        file_system_access_mode = "ro"
        file_system_id          = "fs-0123456789abcdef0"
        file_system_type        = "EFS"
      }
    }
  }
  output_data_config {
    s3_output_path = "s3://corpus/out/"
  }
}
resource "aws_sagemaker_model" "m" {
  name               = "m"
  execution_role_arn = "arn:aws:iam::123456789012:role/x"
  primary_container {
    image          = "x"
    model_data_url = "s3://corpus/model.tar.gz"
  }
}
"""


def test_training_sources_resolve_literals_references_and_undeclared_buckets(model_of):
    infra = model_of({"main.tf": _TRAINING})
    (classifier,) = infra.of_type("aws_comprehend_document_classifier")
    sources = {source.shown.split(" =")[0]: source for source in training_sources(classifier, infra)}
    assert set(sources) == {"input_data_config.s3_uri", "input_data_config.test_s3_uri",
                            "input_data_config.augmented_manifests.s3_uri"}
    assert [s.address for s in sources["input_data_config.s3_uri"].stores] == ["aws_s3_bucket.corpus"]  # by name
    assert [s.address for s in sources["input_data_config.test_s3_uri"].stores] == ["aws_s3_bucket.corpus"]
    manifest = sources["input_data_config.augmented_manifests.s3_uri"]
    assert manifest.stores == () and manifest.bucket == "elsewhere"
    (job,) = infra.of_type("aws_sagemaker_training_job")
    (file_system,) = training_sources(job, infra)
    assert file_system.unresolved and "file system" in file_system.unresolved  # an ID literal: not in the scan
    (model,) = infra.of_type("aws_sagemaker_model")
    assert training_sources(model, infra) is None  # inference, not training


def test_the_rule_judges_only_the_training_types(model_of):
    infra = model_of({"main.tf": _TRAINING})
    policy = load(POLICY_MAP).policy
    for resource in infra.resources:
        outcome = no_model_training.evaluate(resource, infra, policy)
        assert (outcome is not None) == (resource.type in TRAINERS), resource.address
    (classifier,) = infra.of_type("aws_comprehend_document_classifier")
    outcome = no_model_training.evaluate(classifier, infra, policy)
    assert not outcome.passed and 'bucket "elsewhere"' in outcome.found


# --- plan parity --------------------------------------------------------------------------------------------

PLAN_ROOT = HERE / "plan_parity"
REAL_PLAN = FIXTURES / "plans" / "terraform" / "ckv_dh_106_training.json"


def test_ckv_dh_106_real_plan_gives_the_same_results_as_the_source():
    """REAL_PLAN is `terraform show -json` of PLAN_ROOT, planned offline with the provider mirror (regenerate
    with `python tests/test_ckv_dh_106.py`; test_real_plan_is_current checks it when terraform is here)."""
    _, from_source, _ = run_checkov(PLAN_ROOT, POLICY_MAP, check=CHECK)
    _, from_plan, stderr = run_checkov(REAL_PLAN, POLICY_MAP, "--repo-root-for-plan-enrichment", str(PLAN_ROOT),
                                       check=CHECK, framework="terraform_plan")
    assert "Traceback" not in stderr
    expected = outcomes(from_source, CHECK)
    assert {result for _, _, result in expected} == {"passed", "failed"}
    assert outcomes(from_plan, CHECK) == expected
    assert ("CKV_DH_106", "aws_bedrock_custom_model.support_assistant", "failed") in expected  # .id: unknown in plan
    assert ("CKV_DH_106", "aws_transcribe_language_model.marketing_terms", "passed") in expected


def test_an_argument_the_provider_computes_is_not_a_training_source():
    from data_handling.model.plan_source import COMPUTED, build_from_plan, load_plan

    infra = build_from_plan(load_plan(str(REAL_PLAN)), str(REAL_PLAN))
    (model,) = [r for r in infra.resources if r.address == "aws_transcribe_language_model.marketing_terms"]
    (block,) = model.config["input_data_config"]
    assert block["tuning_data_s3_uri"] == [COMPUTED]  # not in the configuration: the provider's default
    (source,) = training_sources(model, infra)
    assert [s.address for s in source.stores] == ["aws_s3_bucket.marketing_copy"]
    (assistant,) = [r for r in infra.resources if r.address == "aws_bedrock_custom_model.support_assistant"]
    (source,) = training_sources(assistant, infra)  # written as ${aws_s3_bucket.orders.id}: the edge decides
    assert [s.address for s in source.stores] == ["aws_s3_bucket.orders"]


def _real_plan() -> dict:
    """`terraform show -json` of PLAN_ROOT, planned offline (its module directory copied beside it)."""
    with tempfile.TemporaryDirectory() as scratch:
        for name in ("plan_parity", "modules"):
            shutil.copytree(HERE / name, Path(scratch) / name)
        work = Path(scratch) / "plan_parity"
        (work / "zz_offline_override.tf").write_text(_override(provider_aliases(PLAN_ROOT)))
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "mock", "AWS_SECRET_ACCESS_KEY": "mock", "TF_INPUT": "0",
               "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
        for step in (["terraform", "init", "-backend=false", "-input=false", f"-plugin-dir={plugin_dir()}"],
                     ["terraform", "plan", "-refresh=false", "-input=false", "-lock=false", "-out=plan.out"],
                     ["terraform", "show", "-json", "plan.out"]):
            done = subprocess.run(step, cwd=work, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
        document = json.loads(done.stdout)
    document.pop("timestamp", None)
    return document


def test_real_plan_is_current():
    if not available():
        pytest.skip("terraform or the AWS provider mirror is not on this machine")
    committed = json.loads(REAL_PLAN.read_text())
    assert _real_plan()["resource_changes"] == committed["resource_changes"], \
        "regenerate with: python tests/test_ckv_dh_106.py"


if __name__ == "__main__":
    REAL_PLAN.write_text(json.dumps(_real_plan(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {REAL_PLAN}")


def test_each_channel_is_attributed_the_bucket_it_names(model_of):
    infra = model_of({"main.tf": """
provider "aws" {
  region = "eu-west-1"
}
resource "aws_s3_bucket" "orders" {
  bucket = "orders"
}
resource "aws_s3_bucket" "metrics" {
  bucket_prefix = "metrics-"
}
resource "aws_sagemaker_training_job" "t" {
  training_job_name = "t"
  role_arn          = "arn:aws:iam::123456789012:role/x"
  input_data_config {
    channel_name = "train"
    data_source {
      s3_data_source {
        s3_data_type = "S3Prefix"
        s3_uri       = "s3://${aws_s3_bucket.orders.bucket}/train/"
      }
    }
  }
  input_data_config {
    channel_name = "validation"
    data_source {
      s3_data_source {
        s3_data_type = "S3Prefix"
        s3_uri       = "s3://${aws_s3_bucket.metrics.id}/validation/"
      }
    }
  }
  output_data_config {
    s3_output_path = "s3://${aws_s3_bucket.metrics.id}/out/"
  }
}
"""})
    (job,) = infra.of_type("aws_sagemaker_training_job")
    train, validation = training_sources(job, infra)
    assert [s.address for s in train.stores] == ["aws_s3_bucket.orders"]  # by the name it rendered to
    assert [s.address for s in validation.stores] == ["aws_s3_bucket.metrics"]  # by the reference in its text


def test_a_key_known_after_apply_still_reads_the_bucket_it_names(model_of):
    infra = model_of({"main.tf": """
provider "aws" {
  region = "eu-west-1"
}
resource "aws_s3_bucket" "orders" {
  bucket = "orders"
}
resource "random_id" "run" {
  byte_length = 4
}
resource "aws_transcribe_language_model" "m" {
  model_name      = "m"
  base_model_name = "NarrowBand"
  language_code   = "en-US"
  input_data_config {
    data_access_role_arn = "arn:aws:iam::123456789012:role/x"
    s3_uri               = "s3://orders/${random_id.run.hex}/"
    tuning_data_s3_uri   = "s3://${random_id.run.hex}/tuning/"
  }
}
"""})
    (model,) = infra.of_type("aws_transcribe_language_model")
    training, tuning = training_sources(model, infra)
    assert [s.address for s in training.stores] == ["aws_s3_bucket.orders"]
    assert tuning.unresolved and "could not be evaluated" in tuning.unresolved  # the bucket itself is unknown
