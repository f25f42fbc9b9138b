"""`data-handling audit` end to end against moto in server mode: a real HTTP endpoint on a free local port that
boto3 reaches through AWS_ENDPOINT_URL, with dummy credentials and no internet.

moto does not implement DynamoDB global-table replicas (UpdateTable ReplicaUpdates is accepted and ignored, so
DescribeTable never lists one): that path is tested with botocore's Stubber (test_dynamodb_replicas_...). The calls
of the later readers that moto does not implement at all are answered by tests/moto_lacks.py (the `aws` fixture
installs it), as an account that has none of them.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

import moto_lacks
from conftest import FIXTURES, REPO
from data_handling.cli import main
from data_handling.model.live import PERMISSIONS, read_estate
from data_handling.model.live.api import Caller, CallLog, permission
from data_handling.model.live.estate import REGIONAL_SERVICES
from data_handling.model.live.readers import _dynamodb_table
from data_handling.rules.registry import RULES

moto_server = pytest.importorskip("moto.server")

ACCOUNT = "123456789012"
REGIONS = "eu-west-1,us-east-1"
POLICY_MAP = FIXTURES / "live_audit" / "policy_map.yaml"
AUDITED = ("CKV_DH_100", "CKV_DH_101", "CKV_DH_102", "CKV_DH_201", "CKV_DH_202", "CKV_DH_204")
CONFIDENTIAL_ACME = [{"Key": "data_class", "Value": "confidential"}, {"Key": "tenant", "Value": "acme"}]
RESTRICTED_ACME = [{"Key": "data_class", "Value": "restricted"}, {"Key": "tenant", "Value": "acme"}]
TWO_PERSON_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
     "Resource": "*"},
    {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/key-admin"},
     "Action": ["kms:PutKeyPolicy", "kms:EnableKeyRotation"], "Resource": "*"},
    {"Sid": "Users", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/payments"},
     "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}]})


@pytest.fixture(scope="module")
def endpoint() -> str:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(endpoint, monkeypatch, tmp_path) -> str:
    """A fresh moto estate and the standard AWS configuration pointing at it (no profile, no real credentials)."""
    _post(endpoint, "/moto-api/reset", b"")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "DATA_HANDLING_POLICY_MAP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    moto_lacks.install(monkeypatch)  # what moto does not implement: answered as an account with none
    return endpoint


def _post(endpoint: str, path: str, body: bytes) -> None:
    # not form-encoded: moto reads the raw body (werkzeug would parse a form and leave it empty)
    request = urllib.request.Request(endpoint + path, data=body, method="POST",
                                     headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=30):
        pass


def audit(tmp_path: Path, *args: str, outputs: tuple[str, ...] = ("json",)) -> tuple[int, dict]:
    out = tmp_path / "out"
    argv = ["audit", "--regions", REGIONS, "--policy-map", str(POLICY_MAP), "--output-file-path", str(out)]
    for output in outputs:
        argv += ["--output", output]
    code = main([*argv, *args])
    report = json.loads((out / "results_json.json").read_text()) if "json" in outputs else {}
    return code, report


def results(report: dict, status: str, checks: tuple[str, ...] = AUDITED) -> set[tuple[str, str]]:
    return {(record["check_id"], record["resource"]) for record in report["results"][f"{status}_checks"]
            if record["check_id"] in checks}


# --- the seeded estate ------------------------------------------------------------------------------------

def _bucket(name: str, region: str, tags: list[dict] | None = None) -> str:
    s3 = boto3.client("s3", region_name=region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})
    return f"arn:aws:s3:::{name}"


def _replicate(source: str, destination: str) -> None:
    boto3.client("s3", region_name="eu-west-1").put_bucket_replication(Bucket=source, ReplicationConfiguration={
        "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
        "Rules": [{"ID": "dr", "Status": "Enabled", "Priority": 1, "Filter": {},
                   "DeleteMarkerReplication": {"Status": "Disabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{destination}"}}]})


def seed() -> dict[str, str]:
    """The sample SaaS's kinds of violations, and compliant stores beside them. Returns name -> ARN."""
    arns = {name: _bucket(name, region, tags) for name, region, tags in (
        ("acme-orders", "eu-west-1", CONFIDENTIAL_ACME),  # compliant, replicated in its own region
        ("acme-orders-dr", "eu-west-1", CONFIDENTIAL_ACME),
        ("acme-profiles-us", "us-east-1", CONFIDENTIAL_ACME),  # CKV_DH_101: outside acme's home region
        ("acme-exports", "eu-west-1", CONFIDENTIAL_ACME),  # CKV_DH_102: replicated to us-east-1
        ("acme-exports-us", "us-east-1", [{"Key": "data_class", "Value": "internal"}]),
        ("acme-cards", "eu-west-1", RESTRICTED_ACME),  # CKV_DH_201: a bucket is not a vault
        ("untagged-logs", "us-east-1", None),  # CKV_DH_100: no class
    )}
    _replicate("acme-orders", "acme-orders-dr")
    _replicate("acme-exports", "acme-exports-us")

    kms = boto3.client("kms", region_name="eu-west-1")
    unrotated = kms.create_key(Description="no rotation, default key policy")["KeyMetadata"]
    vault_key = kms.create_key(Description="vault key", Policy=TWO_PERSON_POLICY)["KeyMetadata"]
    kms.enable_key_rotation(KeyId=vault_key["KeyId"])
    kms.create_alias(AliasName="alias/acme-vault", TargetKeyId=vault_key["KeyId"])
    arns["unrotated-key"], arns["vault-key"] = unrotated["Arn"], vault_key["Arn"]

    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    for name, extra in (("acme/aws-managed", {}),  # CKV_DH_202: the AWS-managed key
                        ("acme/unrotated", {"KmsKeyId": unrotated["KeyId"]}),  # CKV_DH_202 and 204 on the key
                        ("acme/vaulted", {"KmsKeyId": "alias/acme-vault"})):  # compliant
        arns[name] = secrets.create_secret(Name=name, SecretString="never read", Tags=RESTRICTED_ACME,
                                           **extra)["ARN"]
    arns["acme/replicated"] = secrets.create_secret(  # CKV_DH_102: a replica in us-east-1
        Name="acme/replicated", SecretString="never read", Tags=CONFIDENTIAL_ACME,
        AddReplicaRegions=[{"Region": "us-east-1", "KmsKeyId": "alias/aws/secretsmanager"}])["ARN"]
    replica = boto3.client("secretsmanager", region_name="us-east-1").describe_secret(SecretId="acme/replicated")
    arns["acme/replicated (us-east-1)"] = replica["ARN"]

    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    for name, tags in (("acme-sessions", CONFIDENTIAL_ACME), ("events", None)):
        table = dynamodb.create_table(
            TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            **({"Tags": tags} if tags else {}))
        arns[name] = table["TableDescription"]["TableArn"]

    rds = boto3.client("rds", region_name="eu-west-1")
    arns["acme-db"] = rds.create_db_instance(
        DBInstanceIdentifier="acme-db", DBInstanceClass="db.t3.micro", Engine="postgres", MasterUsername="app",
        MasterUserPassword="not-a-real-one", AllocatedStorage=20, Tags=CONFIDENTIAL_ACME)["DBInstance"]["DBInstanceArn"]
    arns["acme-db-us"] = boto3.client("rds", region_name="us-east-1").create_db_instance_read_replica(
        DBInstanceIdentifier="acme-db-us", SourceDBInstanceIdentifier=arns["acme-db"],  # CKV_DH_102
        SourceRegion="eu-west-1", Tags=CONFIDENTIAL_ACME)["DBInstance"]["DBInstanceArn"]
    return arns


def expected_failures(arns: dict[str, str]) -> set[tuple[str, str]]:
    return {
        ("CKV_DH_100", arns["untagged-logs"]),
        ("CKV_DH_100", arns["events"]),
        ("CKV_DH_101", arns["acme-profiles-us"]),
        ("CKV_DH_101", arns["acme/replicated (us-east-1)"]),  # the replica is a secret of us-east-1
        ("CKV_DH_101", arns["acme-db-us"]),
        ("CKV_DH_102", arns["acme-exports"]),
        ("CKV_DH_102", arns["acme/replicated"]),
        ("CKV_DH_102", arns["acme-db-us"]),
        ("CKV_DH_201", arns["acme-cards"]),
        ("CKV_DH_202", arns["acme/aws-managed"]),
        ("CKV_DH_202", arns["acme/unrotated"]),
        ("CKV_DH_204", arns["unrotated-key"]),
    }


def test_the_seeded_estate_gives_exactly_the_violations(aws, tmp_path):
    arns = seed()
    code, report = audit(tmp_path, outputs=("json", "cli"))
    assert code == 1
    assert report["check_type"] == "aws_live" and report["unverified"] == []
    assert results(report, "failed") == expected_failures(arns)
    passed = results(report, "passed")
    for compliant in (("CKV_DH_100", arns["acme-orders"]), ("CKV_DH_101", arns["acme-orders"]),
                      ("CKV_DH_102", arns["acme-orders"]), ("CKV_DH_101", arns["acme-exports"]),
                      ("CKV_DH_202", arns["acme/vaulted"]), ("CKV_DH_204", arns["vault-key"]),
                      ("CKV_DH_201", arns["acme/vaulted"]), ("CKV_DH_101", arns["acme-sessions"]),
                      ("CKV_DH_101", arns["acme-db"])):
        assert compliant in passed, compliant
    assert not passed & expected_failures(arns)
    for record in report["results"]["failed_checks"]:
        assert [d.split(":", 1)[0] for d in record["details"][:3]] == ["Found", "Policy", "Fix"], record
        assert record["account"] == ACCOUNT and record["region"] in REGIONS.split(",")
    text = (tmp_path / "out" / "results_cli.txt").read_text()
    assert f"FAILED for resource: {arns['acme-exports']}" in text


def test_a_finding_names_the_account_regions_and_the_copy(aws, tmp_path):
    arns = seed()
    _, report = audit(tmp_path)
    [record] = [r for r in report["results"]["failed_checks"]
                if (r["check_id"], r["resource"]) == ("CKV_DH_102", arns["acme-exports"])]
    found = record["details"][0]
    assert arns["acme-exports-us"] in found and "eu-west-1" in found and "us-east-1" in found
    assert f"account {ACCOUNT}" in found


def test_an_empty_account_is_clean(aws, tmp_path):
    code, report = audit(tmp_path)
    assert code == 0
    assert report["results"] == {"passed_checks": [], "failed_checks": [], "skipped_checks": [], "parsing_errors": []}
    assert report["accounts"] == [ACCOUNT] and report["regions"] == ["eu-west-1", "us-east-1"]


def test_a_waiver_turns_the_failure_into_a_skip(aws, tmp_path):
    arns = seed()
    waived = tmp_path / "waived.yaml"
    waiver = ('  - {check: CKV_DH_201, resource: "arn:aws:s3:::acme-cards", reason: "migrating to Secrets Manager", '
              "expires: 2099-01-01}\n")
    waived.write_text(POLICY_MAP.read_text() + "waivers:\n" + waiver + "waiver_max_days: 100000\n")
    code, report = audit(tmp_path, "--policy-map", str(waived))
    assert code == 1
    assert ("CKV_DH_201", arns["acme-cards"]) not in results(report, "failed")
    [skipped] = report["results"]["skipped_checks"]
    assert skipped["resource"] == arns["acme-cards"]
    assert "migrating to Secrets Manager" in skipped["check_result"]["suppress_comment"]


# --- fail closed: denied calls ----------------------------------------------------------------------------

DENIED = ("kms:GetKeyPolicy", "dynamodb:ListTables")


def auditor(denied: tuple[str, ...] = (), moto_names: tuple[str, ...] = ("s3:GetBucketReplication",)
            ) -> dict[str, str]:
    """An IAM user granted the audit policy minus `denied`, plus `moto_names`: the actions moto checks some calls as
    (it names S3's replication action after the operation, where AWS requires s3:GetReplicationConfiguration, and
    authorises GetBucketReplication and GetPublicAccessBlock as s3:ListBucket)."""
    iam = boto3.client("iam", region_name="us-east-1")
    document = json.loads((REPO / "docs" / "audit-iam-policy.json").read_text())
    document["Statement"][0]["Action"] = [a for a in document["Statement"][0]["Action"] if a not in denied] + [
        *moto_names]
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="audit", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def _limited_user() -> dict[str, str]:
    return auditor(DENIED)


@pytest.fixture
def enforced(aws, monkeypatch):
    """moto checks every call against IAM from now on (INITIAL_NO_AUTH_ACTION_COUNT = 0), until the test ends."""
    yield lambda credentials: [monkeypatch.setenv(k, v) for k, v in credentials.items()] and \
        _post(aws, "/moto-api/reset-auth", b"0")
    _post(aws, "/moto-api/reset-auth", b"inf")


def test_denied_calls_are_not_verified_and_exit_2(enforced, tmp_path, capsys):
    arns = seed()
    enforced(_limited_user())
    code, report = audit(tmp_path)
    assert code == 2
    reasons = [item["reason"] for item in report["unverified"]]
    assert any("dynamodb:ListTables" in r and "grant dynamodb:ListTables" in r for r in reasons), reasons
    [key_policy] = [item for item in report["unverified"] if item["scope"] == arns["vault-key"]]
    assert "kms:GetKeyPolicy" in key_policy["reason"] and "grant kms:GetKeyPolicy" in key_policy["reason"]
    assert "CKV_DH_204" in key_policy["checks"] and "CKV_DH_100" not in key_policy["checks"]
    listing = next(i for i in report["unverified"] if "dynamodb:ListTables" in i["reason"])
    assert "CKV_DH_100" in listing["checks"] and "CKV_DH_101" in listing["checks"]
    # a key policy that could not be read never passes CKV_DH_204
    assert ("CKV_DH_204", arns["vault-key"]) in results(report, "failed")
    assert "could not be read" in capsys.readouterr().err


def test_allow_partial_reports_and_exits_by_the_findings(enforced, tmp_path):
    seed()
    enforced(_limited_user())
    code, report = audit(tmp_path, "--allow-partial")
    assert code == 1
    assert report["unverified"] and report["summary"]["unverified"] == len(report["unverified"])


# --- account scale: pagination, throttling, the calls made ------------------------------------------------

def _tables(count: int) -> None:
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    for number in range(count):
        dynamodb.create_table(TableName=f"t{number:03}", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")


def test_listings_paginate_past_one_page(aws, tmp_path):
    _tables(105)  # ListTables returns at most 100 names a page
    estate = read_estate([boto3.Session()], ["eu-west-1"])
    assert sum(1 for r in estate.infra.resources if r.type == "aws_dynamodb_table") == 105
    assert estate.log.calls.count(("dynamodb", "ListTables")) == 2
    code, report = audit(tmp_path)
    assert code == 1 and len(results(report, "failed", ("CKV_DH_100",))) == 105


def test_throttling_is_retried(aws):
    _tables(1)
    session = boto3.Session()
    attempts: list[str] = []

    def throttle(request, **_):
        if "ListTables" in request.headers.get("X-Amz-Target", b"").decode():
            attempts.append("ListTables")
            if len(attempts) <= 2:
                from botocore.awsrequest import AWSResponse

                body = b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}'
                return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, _Raw(body))
        return None

    session.events.register("before-send.dynamodb", throttle)
    estate = read_estate([session], ["eu-west-1"])
    assert len(attempts) == 3 and not estate.gaps
    assert [r.name for r in estate.infra.resources if r.type == "aws_dynamodb_table"] == ["t000"]


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


def test_the_audit_calls_only_what_the_iam_policy_grants(aws):
    seed()
    estate = read_estate([boto3.Session()], None)  # every region, every reader
    called = {permission(service, operation) for service, operation in estate.log.calls}
    document = json.loads((REPO / "docs" / "audit-iam-policy.json").read_text())
    granted = {action for statement in document["Statement"] for action in statement["Action"]}
    assert called <= granted, called - granted
    assert granted == set(PERMISSIONS)
    assert all(re.match(r"^[a-z0-9]+:(List|Get|Describe)", action) for action in granted), granted
    assert not {"s3:GetObject", "secretsmanager:GetSecretValue", "kms:Decrypt"} & granted


def test_every_region_is_read_once_per_service(aws):
    estate = read_estate([boto3.Session()], ["eu-west-1", "us-east-1"])
    for listing in (("dynamodb", "ListTables"), ("kms", "ListKeys"), ("secretsmanager", "ListSecrets"),
                    ("rds", "DescribeDBInstances"), ("backup", "ListBackupPlans"), ("redshift", "DescribeClusters"),
                    ("elasticache", "DescribeReplicationGroups"), ("elasticache", "DescribeGlobalReplicationGroups"),
                    ("memorydb", "DescribeClusters"), ("memorydb", "DescribeMultiRegionClusters"),
                    ("efs", "DescribeReplicationConfigurations"), ("dlm", "GetLifecyclePolicies"),
                    ("logs", "DescribeLogGroups"), ("ec2", "DescribeFlowLogs"), ("firehose", "ListDeliveryStreams"),
                    ("glue", "GetDatabases"),
                    # CKV_DH_104, 106
                    ("cloudtrail", "DescribeTrails"), ("bedrock", "ListModelCustomizationJobs"),
                    ("bedrock", "ListCustomModels"), ("comprehend", "ListDocumentClassifiers"),
                    ("comprehend", "ListEntityRecognizers"), ("transcribe", "ListLanguageModels"),
                    ("sagemaker", "ListTrainingJobs"), ("glue", "GetMLTransforms")):
        assert estate.log.calls.count(listing) == 2, listing
    assert estate.log.calls.count(("s3", "ListBuckets")) == 1
    assert estate.log.calls.count(("s3control", "ListMultiRegionAccessPoints")) == 1  # account-wide


# --- regions --------------------------------------------------------------------------------------------

def test_a_malformed_region_is_refused(aws, tmp_path, capsys):
    assert main(["audit", "--regions", "eu-wset-1", "--policy-map", str(POLICY_MAP)]) == 2
    assert "not an AWS region name" in capsys.readouterr().err


def test_a_region_botocore_does_not_list_is_audited_not_skipped(aws, tmp_path, capsys, monkeypatch):
    """Well formed but unknown to botocore: warned about and read. moto serves no such region (HTTP 500), so
    every listing there is a gap: the audit says what it could not verify and exits 2, it never passes."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the standard setting; the audit's own default retries 10 times
    code = main(["audit", "--regions", "eu-south-9", "--policy-map", str(POLICY_MAP), "--output", "json",
                 "--output-file-path", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "eu-south-9 is not known" in err
    unverified = json.loads((tmp_path / "results_json.json").read_text())["unverified"]
    # (moto has no DLM and no Transcribe language models: tests/moto_lacks.py answers them, in any region)
    assert {item["scope"] for item in unverified} == {f"account {ACCOUNT}, eu-south-9, {service}"
                                                      for service in REGIONAL_SERVICES
                                                      if service not in ("dlm", "transcribe")}


# --- SARIF ------------------------------------------------------------------------------------------------

def test_sarif_validates_and_names_each_arn(aws, tmp_path):
    from test_sarif import _validator

    arns = seed()
    code, _ = audit(tmp_path, outputs=("sarif",))
    assert code == 1
    document = json.loads((tmp_path / "out" / "results.sarif").read_text())
    for schema in ("sarif-2.1.0.json", "sarif-2.1.0-github-upload.json"):
        errors = [e.message for e in _validator(schema).iter_errors(document)]
        assert not errors, errors[:5]
    run = document["runs"][0]
    found = set()
    for result in run["results"]:
        [location] = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("aws-live/") and ".." not in uri.split("/") and ":" not in uri.split("/")[0]
        assert location["physicalLocation"]["region"]["startLine"] == 1
        [logical] = location["logicalLocations"]
        found.add((result["ruleId"], logical["fullyQualifiedName"]))
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    assert {f for f in found if f[0] in AUDITED} == expected_failures(arns)


def test_sarif_passes_the_multitool_with_github_rules(aws, tmp_path):
    import os
    import subprocess

    from node_tools import multitool

    seed()
    audit(tmp_path, outputs=("sarif",))
    binary = multitool()
    report = tmp_path / "validation.sarif"
    subprocess.run([binary, "validate", "--rule-kind", "Sarif;Ghas", "--level", "Error;Warning;Note", "--log",
                    "ForceOverwrite", "--output", str(report), str(tmp_path / "out" / "results.sarif")],
                   capture_output=True, text=True, timeout=300,
                   env=dict(os.environ, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1"))
    validation = json.loads(report.read_text())["runs"][0]
    problems = [f"{r['ruleId']}: {r['message'].get('arguments')}" for r in validation.get("results", [])
                if r.get("level", "warning") in ("error", "warning")]
    assert not problems, problems[:10]


# --- paths moto does not implement: botocore's Stubber --------------------------------------------------

def test_dynamodb_replicas_in_other_regions_are_copies(monkeypatch):
    """moto ignores ReplicaUpdates, so DescribeTable's Replicas is stubbed (botocore Stubber)."""
    client = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    arn = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders"
    with Stubber(client) as stub:
        stub.add_response("describe_table", {"Table": {"TableName": "orders", "TableArn": arn, "Replicas": [
            {"RegionName": "eu-west-1"}, {"RegionName": "us-east-1"}]}}, {"TableName": "orders"})
        stub.add_response("list_tags_of_resource", {"Tags": CONFIDENTIAL_ACME}, {"ResourceArn": arn})
        stub.add_client_error("get_resource_policy", "PolicyNotFoundException", expected_params={"ResourceArn": arn})
        read = _dynamodb_table(Caller(client, ACCOUNT, "eu-west-1", CallLog()), "orders")
    [(record, _)] = read.records
    assert record.config["replica"] == [{"region_name": ["us-east-1"]}]
    assert record.config["tags"] == [{"data_class": "confidential", "tenant": "acme"}]


# --- one rule, every source ------------------------------------------------------------------------------

def test_the_registry_runs_the_rules_the_checkov_adapters_run():
    pairs = {}
    for adapter in (REPO / "checks").glob("dh_*.py"):
        match = re.search(r'DataHandlingCheck\("(CKV_DH_\d+)",\s*(\w+)\.evaluate', adapter.read_text())
        assert match, adapter
        pairs[match.group(1)] = match.group(2)
    for check_id, rule in RULES.items():
        assert pairs.get(check_id) == rule.__module__.rsplit(".", 1)[-1], check_id


def test_global_databases_and_multi_region_keys(aws, tmp_path):
    """An Aurora global database whose members sit in two regions is a copy (CKV_DH_102, on the global
    cluster); a Restricted secret under a multi-Region key fails CKV_DH_202, and the key itself, whose replicas
    can decrypt the data anywhere, fails CKV_DH_102."""
    eu, us = boto3.client("rds", region_name="eu-west-1"), boto3.client("rds", region_name="us-east-1")
    group = eu.create_global_cluster(GlobalClusterIdentifier="acme-global", Engine="aurora-postgresql")
    writer = eu.create_db_cluster(DBClusterIdentifier="acme-writer", Engine="aurora-postgresql", MasterUsername="app",
                                  MasterUserPassword="not-a-real-one", GlobalClusterIdentifier="acme-global",
                                  Tags=CONFIDENTIAL_ACME)["DBCluster"]
    reader = us.create_db_cluster(DBClusterIdentifier="acme-reader", Engine="aurora-postgresql",
                                  GlobalClusterIdentifier="acme-global", Tags=CONFIDENTIAL_ACME)["DBCluster"]
    key = boto3.client("kms", region_name="eu-west-1").create_key(MultiRegion=True)["KeyMetadata"]
    boto3.client("kms", region_name="eu-west-1").enable_key_rotation(KeyId=key["KeyId"])
    secret = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
        Name="acme/mrk", SecretString="never read", KmsKeyId=key["Arn"], Tags=RESTRICTED_ACME)["ARN"]
    code, report = audit(tmp_path)
    assert code == 1
    failed = results(report, "failed")
    assert failed == {("CKV_DH_102", group["GlobalCluster"]["GlobalClusterArn"]),
                      ("CKV_DH_101", reader["DBClusterArn"]),
                      ("CKV_DH_202", secret), ("CKV_DH_204", key["Arn"]), ("CKV_DH_102", key["Arn"])}
    assert ("CKV_DH_101", writer["DBClusterArn"]) in results(report, "passed")
    group_arn = group["GlobalCluster"]["GlobalClusterArn"]
    [copy] = [r for r in report["results"]["failed_checks"] if r["resource"] == group_arn]
    assert reader["DBClusterArn"] in copy["details"][0] and "us-east-1" in copy["details"][0]


def test_several_role_arns_audit_several_accounts(aws, tmp_path):
    """Each --role-arn is assumed with the caller's credentials and audited as its own account (moto gives an
    assumed role of another account that account's resources)."""
    other = "111111111111"
    sts = boto3.client("sts", region_name="eu-west-1")
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{other}:role/seed", RoleSessionName="seed")["Credentials"]
    theirs = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                           aws_secret_access_key=credentials["SecretAccessKey"],
                           aws_session_token=credentials["SessionToken"], region_name="eu-west-1")
    theirs.client("dynamodb").create_table(
        TableName="their-events", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    boto3.client("dynamodb", region_name="eu-west-1").create_table(
        TableName="our-events", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    code, report = audit(tmp_path, "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/audit",
                         "--role-arn", f"arn:aws:iam::{other}:role/audit")
    assert code == 1
    assert sorted(report["accounts"]) == [other, ACCOUNT]
    assert results(report, "failed") == {
        ("CKV_DH_100", f"arn:aws:dynamodb:eu-west-1:{other}:table/their-events"),
        ("CKV_DH_100", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/our-events")}


def test_the_live_model_knows_nothing_of_rules_outputs_or_engines():
    """Layers: model/live builds records; it imports no rule, output, CLI, audit command or checkov."""
    import ast

    forbidden = ("data_handling.rules", "data_handling.output", "data_handling.cli", "data_handling.audit",
                 "data_handling.checkov_adapter", "checkov")
    for path in (REPO / "src" / "data_handling" / "model" / "live").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not [n for n in names if n.startswith(forbidden)], (path.name, names)


def test_ssm_parameters_are_vaults_only_as_secure_strings(aws, tmp_path):
    ssm = boto3.client("ssm", region_name="eu-west-1")
    kms = boto3.client("kms", region_name="eu-west-1")
    key = kms.create_key(Policy=TWO_PERSON_POLICY)["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    for name, extra in (("/acme/plain", {"Type": "String"}),  # CKV_DH_201: stored in plain text
                        ("/acme/default-key", {"Type": "SecureString"}),  # CKV_DH_202: alias/aws/ssm
                        ("/acme/vaulted", {"Type": "SecureString", "KeyId": key["KeyId"]})):
        ssm.put_parameter(Name=name, Value="never read", Tags=RESTRICTED_ACME, **extra)
    arn = {name: f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter{name}"
           for name in ("/acme/plain", "/acme/default-key", "/acme/vaulted")}
    code, report = audit(tmp_path)
    assert code == 1
    assert results(report, "failed") == {("CKV_DH_201", arn["/acme/plain"]), ("CKV_DH_202", arn["/acme/plain"]),
                                         ("CKV_DH_202", arn["/acme/default-key"])}
    assert {("CKV_DH_201", arn["/acme/vaulted"]), ("CKV_DH_202", arn["/acme/vaulted"]),
            ("CKV_DH_204", key["Arn"])} <= results(report, "passed")


def test_rds_automated_backups_replicated_to_another_region_are_copies():
    """DescribeDBInstances names the replicated backups by their ARN in the destination region; moto does not
    implement the replication, so the answer is stubbed (botocore Stubber)."""
    from data_handling.model.live.estate import _link
    from data_handling.model.live.readers import rds
    from data_handling.policy.loader import load
    from data_handling.rules.evaluation import evaluate_model

    client = boto3.client("rds", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    source = f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:acme-db"
    copy = f"arn:aws:rds:us-east-1:{ACCOUNT}:auto-backup:ab-acme"
    with Stubber(client) as stub:
        stub.add_response("describe_db_instances", {"DBInstances": [{
            "DBInstanceIdentifier": "acme-db", "DBInstanceArn": source, "Engine": "postgres",
            "TagList": CONFIDENTIAL_ACME, "DBInstanceAutomatedBackupsReplications": [
                {"DBInstanceAutomatedBackupsArn": copy}]}]}, {})
        stub.add_response("describe_db_clusters", {"DBClusters": []}, {})
        stub.add_response("describe_global_clusters", {"GlobalClusters": []}, {})
        read = rds(Caller(client, ACCOUNT, "eu-west-1", CallLog()))
    infra = _link(read, [ACCOUNT], ["eu-west-1", "us-east-1"])
    policy = load(POLICY_MAP).policy
    failed = {(e.check_id, e.resource.address) for e in evaluate_model(infra, policy, RULES) if e.result == "FAILED"}
    assert failed == {("CKV_DH_102", copy),
                      ("CKV_DH_104", source)}  # and no audit log: the postgresql export is not enabled


def test_a_home_region_botocore_does_not_list_is_a_warning_and_is_enforced(aws, tmp_path, capsys):
    """The policy map may name a region the installed botocore does not list yet (AWS opens regions first):
    it is accepted with a warning, and a store of that tenant elsewhere still fails."""
    policy_map = tmp_path / "new-region.yaml"
    policy_map.write_text("version: 1\nresidency:\n  tenants:\n    acme: {home_region: eu-south-9}\n")
    bucket = _bucket("acme-orders", "eu-west-1", CONFIDENTIAL_ACME)
    code, report = audit(tmp_path, "--policy-map", str(policy_map))
    assert code == 1
    assert "eu-south-9" in capsys.readouterr().err
    [failure] = [r for r in report["results"]["failed_checks"] if r["check_id"] == "CKV_DH_101"]
    assert failure["resource"] == bucket and "eu-south-9" in failure["details"][0]


def test_efs_file_systems_are_stores(aws, tmp_path):
    efs = boto3.client("efs", region_name="us-east-1")
    system = efs.create_file_system(CreationToken="acme-uploads", Tags=CONFIDENTIAL_ACME)
    code, report = audit(tmp_path)
    assert code == 1
    assert results(report, "failed") == {("CKV_DH_101", system["FileSystemArn"])}
    assert ("CKV_DH_100", system["FileSystemArn"]) in results(report, "passed")
