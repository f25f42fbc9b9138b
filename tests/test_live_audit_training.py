"""CKV_DH_106 read live: no model is trained on a Confidential store. End to end through `data-handling audit`
against moto in server mode (the fixtures of test_live_audit.py), exact (check, ARN) sets.

The audit reads what trains models, as the Terraform types model/training_inputs.py lists: Bedrock model
customization jobs (and custom models no listed job made) as aws_bedrock_custom_model, Comprehend document
classifiers and entity recognizers, Transcribe custom language models, SageMaker training jobs and Glue ML
(FindMatches) transforms, their training data's S3 URIs linked to the audited buckets. moto implements all of them
but Transcribe's ListLanguageModels, which tests/moto_lacks.py answers (test_transcribe_language_models says so).
"""

from __future__ import annotations

import json

import boto3
import pytest

import moto_lacks
from test_live_audit import ACCOUNT, POLICY_MAP, _bucket, audit, aws, endpoint, results  # noqa: F401

pytestmark = pytest.mark.usefixtures("aws")
CHECK = ("CKV_DH_106",)
CONFIDENTIAL = [{"Key": "data_class", "Value": "confidential"}, {"Key": "tenant", "Value": "acme"}]
INTERNAL = [{"Key": "data_class", "Value": "internal"}]
ROLE = f"arn:aws:iam::{ACCOUNT}:role/training"
CENTRAL = "telemetry:\n  central:\n    bucket_name_patterns: [\"central-telemetry-*\"]\n"


def _audit(tmp_path, *extra_yaml: str):
    policy_map = tmp_path / "policy.yaml"
    policy_map.write_text(POLICY_MAP.read_text() + "".join(extra_yaml))
    return audit(tmp_path, "--policy-map", str(policy_map), "--regions", "eu-west-1")


def _buckets() -> None:
    _bucket("acme-orders", "eu-west-1", CONFIDENTIAL)  # identifiable customer data
    _bucket("acme-metrics", "eu-west-1", INTERNAL)  # aggregated, de-identified
    _bucket("acme-models", "eu-west-1", INTERNAL)  # where the jobs write


def _customize(name: str, training: str, validation: str | None = None) -> str:
    return boto3.client("bedrock", region_name="eu-west-1").create_model_customization_job(
        jobName=name, customModelName=f"{name}-model", roleArn=ROLE, baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": training}, outputDataConfig={"s3Uri": "s3://acme-models/out/"},
        hyperParameters={"epochCount": "1"},
        **({"validationDataConfig": {"validators": [{"s3Uri": validation}]}} if validation else {}))["jobArn"]


def test_bedrock_customization_jobs(tmp_path):
    _buckets()
    on_orders = _customize("recommender", "s3://acme-orders/fine-tune/train.jsonl")  # violation
    on_metrics = _customize("forecaster", "s3://acme-metrics/daily/train.jsonl")  # compliant: Internal
    validated = _customize("summariser", "s3://acme-metrics/train.jsonl", "s3://acme-orders/validation.jsonl")
    elsewhere = _customize("partner", "s3://partner-exports/train.jsonl")  # a bucket the audit did not read
    central = _customize("errors", "s3://central-telemetry-eu/aggregates/")  # central telemetry by its name
    code, report = _audit(tmp_path, CENTRAL)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", CHECK) == {("CKV_DH_106", on_orders), ("CKV_DH_106", validated),
                                                ("CKV_DH_106", elsewhere)}
    assert results(report, "passed", CHECK) == {("CKV_DH_106", on_metrics), ("CKV_DH_106", central)}
    details = {r["resource"]: r["details"][0] for r in report["results"]["failed_checks"] if r["check_id"] in CHECK}
    assert "arn:aws:s3:::acme-orders" in details[on_orders] and "confidential" in details[on_orders]
    assert "validation_data_config.validator.s3_uri" in details[validated]
    assert '"partner-exports"' in details[elsewhere] and "class is unknown" in details[elsewhere]


def test_comprehend_classifiers_and_recognizers(tmp_path):
    _buckets()
    comprehend = boto3.client("comprehend", region_name="eu-west-1")
    tickets = comprehend.create_document_classifier(  # violation: labelled customer tickets
        DocumentClassifierName="tickets", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"DataFormat": "COMPREHEND_CSV", "S3Uri": "s3://acme-orders/tickets/"})["DocumentClassifierArn"]
    themes = comprehend.create_document_classifier(  # compliant: aggregates
        DocumentClassifierName="themes", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"DataFormat": "COMPREHEND_CSV", "S3Uri": "s3://acme-metrics/themes/"})["DocumentClassifierArn"]
    names = comprehend.create_entity_recognizer(  # violation: its annotations are customer records
        RecognizerName="names", DataAccessRoleArn=ROLE, LanguageCode="en", InputDataConfig={
            "EntityTypes": [{"Type": "PRODUCT"}], "Documents": {"S3Uri": "s3://acme-metrics/docs/"},
            "Annotations": {"S3Uri": "s3://acme-orders/annotations.csv"}})["EntityRecognizerArn"]
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", CHECK) == {("CKV_DH_106", tickets), ("CKV_DH_106", names)}
    assert results(report, "passed", CHECK) == {("CKV_DH_106", themes)}
    [finding] = [r for r in report["results"]["failed_checks"] if r["resource"] == names]
    assert "input_data_config.annotations.s3_uri" in finding["details"][0]


def test_sagemaker_training_jobs(tmp_path):
    _buckets()
    sagemaker = boto3.client("sagemaker", region_name="eu-west-1")

    def job(name: str, uri: str) -> str:
        return sagemaker.create_training_job(
            TrainingJobName=name, RoleArn=ROLE,
            AlgorithmSpecification={"TrainingImage": "xgboost:1", "TrainingInputMode": "File"},
            InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": uri}}}],
            OutputDataConfig={"S3OutputPath": "s3://acme-models/xgb/"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 3600})["TrainingJobArn"]

    churn = job("churn", "s3://acme-orders/churn/")  # violation
    capacity = job("capacity", "s3://acme-metrics/capacity/")  # compliant
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", CHECK) == {("CKV_DH_106", churn)}
    assert results(report, "passed", CHECK) == {("CKV_DH_106", capacity)}


def test_glue_find_matches_transforms_judge_the_table_and_its_bucket(tmp_path):
    _buckets()
    glue = boto3.client("glue", region_name="eu-west-1")
    glue.create_database(DatabaseInput={"Name": "lake"})
    for table, bucket in (("customers", "acme-orders"), ("routes", "acme-metrics")):
        glue.create_table(DatabaseName="lake", TableInput={"Name": table, "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "string"}], "Location": f"s3://{bucket}/{table}/"}})

    def transform(name: str, table: str) -> str:
        transform_id = glue.create_ml_transform(
            Name=name, Role=ROLE, InputRecordTables=[{"DatabaseName": "lake", "TableName": table}],
            Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "id"}},
            GlueVersion="1.0", MaxCapacity=1.0)["TransformId"]
        return f"arn:aws:glue:eu-west-1:{ACCOUNT}:mlTransform/{transform_id}"

    dedupe = transform("dedupe-customers", "customers")  # violation: the table lives in the Confidential bucket
    routes = transform("dedupe-routes", "routes")  # compliant
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", CHECK) == {("CKV_DH_106", dedupe)}
    assert results(report, "passed", CHECK) == {("CKV_DH_106", routes)}


def test_transcribe_language_models(tmp_path):
    """moto does not implement custom language models: ListLanguageModels is answered through tests/moto_lacks.py,
    as AWS returns it (InputDataConfig in the listing)."""
    _buckets()
    moto_lacks.answers[("transcribe", "ListLanguageModels")] = lambda _: {"Models": [
        {"ModelName": name, "BaseModelName": "NarrowBand", "LanguageCode": "en-US", "ModelStatus": "COMPLETED",
         "InputDataConfig": {"S3Uri": uri, "DataAccessRoleArn": ROLE}}
        for name, uri in (("calls", "s3://acme-orders/call-transcripts/"), ("terms", "s3://acme-metrics/terms/"))]}
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    model = f"arn:aws:transcribe:eu-west-1:{ACCOUNT}:language-model/"
    assert results(report, "failed", CHECK) == {("CKV_DH_106", model + "calls")}
    assert results(report, "passed", CHECK) == {("CKV_DH_106", model + "terms")}


def test_a_job_that_cannot_be_described_fails_closed(tmp_path):
    """Denied by a before-call answer (tests/moto_lacks.py), as AWS denies it: moto's IAM enforcement cannot judge
    Bedrock's calls (it rejects their signatures)."""
    from botocore.exceptions import ClientError

    _buckets()
    job = _customize("forecaster", "s3://acme-metrics/daily/train.jsonl")  # Internal, but it cannot be told

    def denied(_params):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
                          "GetModelCustomizationJob")

    moto_lacks.answers[("bedrock", "GetModelCustomizationJob")] = denied
    code, report = _audit(tmp_path)
    assert code == 2
    [gap] = [item for item in report["unverified"] if "GetModelCustomizationJob" in item["reason"]]
    assert gap["scope"] == job and "CKV_DH_106" in gap["checks"]
    assert "grant bedrock:GetModelCustomizationJob" in gap["reason"]
    assert results(report, "failed", CHECK) == {("CKV_DH_106", job)}
    [finding] = [r for r in report["results"]["failed_checks"] if r["resource"] == job]
    assert "bedrock:GetModelCustomizationJob" in finding["details"][0], finding["details"][0]


def test_the_training_records_have_the_terraform_shape():
    """The records the rule reads, as HCL gives them: blocks as lists of dicts, a reference to the bucket."""
    from data_handling.model.live import read_estate

    _buckets()
    _customize("recommender", "s3://acme-orders/fine-tune/train.jsonl", "s3://acme-metrics/validation.jsonl")
    estate = read_estate([boto3.Session()], ["eu-west-1"])
    [job] = [r for r in estate.infra.resources if r.type == "aws_bedrock_custom_model"]
    assert job.config["training_data_config"] == [{"s3_uri": ["s3://acme-orders/fine-tune/train.jsonl"]}]
    assert job.config["validation_data_config"] == [{"validator": [{"s3_uri": ["s3://acme-metrics/validation.jsonl"]}]}]
    assert sorted((label, target.address) for label, target in job.references) == [
        ("training_data_config.s3_uri", "arn:aws:s3:::acme-orders"),
        ("validation_data_config.validator.s3_uri", "arn:aws:s3:::acme-metrics")]
    assert json.dumps(job.config, default=str)  # plain data


def test_a_service_not_offered_in_a_region_holds_nothing_there(monkeypatch):
    """Bedrock, Comprehend and Transcribe exist in a third to a half of the regions. Where botocore's endpoint data
    does not offer a service in a region it knows, an endpoint that cannot be reached holds nothing (not a gap);
    where it offers it, or does not know the region, that is a gap as for any other service."""
    from data_handling.model.live.api import Caller, CallFailed, CallLog
    from data_handling.model.live.estate import offered

    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x")
    assert not offered(session, "bedrock", "af-south-1") and offered(session, "bedrock", "eu-west-1")
    assert offered(session, "bedrock", "eu-south-9")  # unknown to botocore: read, and a failure is a gap
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    unreachable = session.client("bedrock", region_name="af-south-1", endpoint_url="http://127.0.0.1:9")
    log = CallLog()
    assert Caller(unreachable, ACCOUNT, "af-south-1", log, listed=False).pages(
        "ListCustomModels", "list_custom_models", "modelSummaries") == []
    assert log.gaps == []
    with pytest.raises(CallFailed):
        Caller(unreachable, ACCOUNT, "af-south-1", log, listed=True).pages(
            "ListCustomModels", "list_custom_models", "modelSummaries")
    [gap] = log.gaps
    assert gap.operation == "ListCustomModels" and not gap.denied
