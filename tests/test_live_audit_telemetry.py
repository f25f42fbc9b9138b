"""Telemetry read live for CKV_DH_301-303, end to end through `data-handling audit` against moto in server mode
(fixtures of test_live_audit.py): CloudWatch Logs subscription filters and data protection policies, VPC flow
logs, Firehose delivery streams and Glue tables, each with a violating and a compliant case and the exact
(check, ARN) sets.

moto does not implement GetDataProtectionPolicy: tests/moto_lacks.py answers it (a botocore before-call handler,
the mechanism of botocore's Stubber), with no policy by default and the test's document where it gives one.
"""

from __future__ import annotations

import json

import boto3
import pytest

import moto_lacks
from test_live_audit import ACCOUNT, POLICY_MAP, _bucket, audit, aws, endpoint, results  # noqa: F401

pytestmark = pytest.mark.usefixtures("aws")
TELEMETRY = ("CKV_DH_301", "CKV_DH_302", "CKV_DH_303")
CENTRAL = "\n".join([
    "telemetry:",
    "  central:",
    '    account_ids: ["111111111111"]',
    '    bucket_name_patterns: ["central-telemetry-*"]',
    "    tag: {telemetry_scope: central}",
    "  approved_fields: [route, status, latency_ms, timestamp]",
    "  forbidden_fields:",
    '    - {pattern: "email", reason: "customer emails never flow centrally"}',
    '    - {pattern: "(src|dst)_?addr|(^|_)ip(_|$)", reason: "IP addresses never flow centrally"}', ""])
INTERNAL = [{"Key": "data_class", "Value": "internal"}]


def _audit(tmp_path):
    policy_map = tmp_path / "telemetry.yaml"
    policy_map.write_text(POLICY_MAP.read_text() + CENTRAL)
    return audit(tmp_path, "--policy-map", str(policy_map), "--regions", "eu-west-1")


def _stream(name: str, bucket: str, table: tuple[str, str] | None = None) -> str:
    settings: dict = {"RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose", "BucketARN": f"arn:aws:s3:::{bucket}"}
    if table:
        settings["DataFormatConversionConfiguration"] = {
            "Enabled": True, "SchemaConfiguration": {"DatabaseName": table[0], "TableName": table[1],
                                                     "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose"},
            "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
            "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}}}
    return boto3.client("firehose", region_name="eu-west-1").create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=settings,
        Tags=INTERNAL)["DeliveryStreamARN"]


def _log_group(name: str, destination: str) -> str:
    logs = boto3.client("logs", region_name="eu-west-1")
    logs.create_log_group(logGroupName=name, tags={"data_class": "internal"})
    logs.put_subscription_filter(logGroupName=name, filterName="central", filterPattern="",
                                 destinationArn=destination)
    return f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:{name}:subscription-filter:central"


def test_subscription_filters_and_data_protection_policies(tmp_path):
    _bucket("central-telemetry-logs", "eu-west-1", INTERNAL)
    stream = _stream("to-central", "central-telemetry-logs")
    raw = _log_group("/app/raw", stream)  # violation: application logs flow centrally as they are
    masked = _log_group("/app/masked", stream)  # compliant: de-identified at source
    document = json.dumps({"Name": "mask", "Version": "2021-06-01", "Statement": [
        {"Sid": "audit", "DataIdentifier": [f"arn:aws:dataprotection::aws:data-identifier/{name}"
                                            for name in ("EmailAddress", "IpAddress", "Name", "Address",
                                                         "CreditCardNumber")],
         "Operation": {"Audit": {"FindingsDestination": {}}}},
        {"Sid": "mask", "DataIdentifier": [f"arn:aws:dataprotection::aws:data-identifier/{name}"
                                           for name in ("EmailAddress", "IpAddress", "Name", "Address",
                                                        "CreditCardNumber")],
         "Operation": {"Deidentify": {"MaskConfig": {}}}}]})
    moto_lacks.answers[("logs", "GetDataProtectionPolicy")] = lambda params: {
        "logGroupIdentifier": params["logGroupIdentifier"],
        **({"policyDocument": document} if params["logGroupIdentifier"] == "/app/masked" else {})}
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", TELEMETRY) == {("CKV_DH_303", raw), ("CKV_DH_301", stream)}
    assert ("CKV_DH_303", masked) in results(report, "passed", TELEMETRY)


def test_flow_logs_by_destination_and_format(tmp_path):
    _bucket("central-telemetry-flows", "eu-west-1", INTERNAL)
    _bucket("acme-flows", "eu-west-1", INTERNAL)
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    created = {}
    for name, bucket, log_format in (("raw", "central-telemetry-flows", None),  # violation: srcaddr/dstaddr
                                     ("counts", "central-telemetry-flows", "${version} ${action} ${packets}"),
                                     ("local", "acme-flows", None)):  # compliant: not central
        extra = {"LogFormat": log_format} if log_format else {}
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        [flow_id] = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
                                         LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{bucket}",
                                         **extra)["FlowLogIds"]
        created[name] = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc-flow-log/{flow_id}"
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", TELEMETRY) == {("CKV_DH_303", created["raw"])}
    assert ("CKV_DH_303", created["counts"]) in results(report, "passed", TELEMETRY)


def test_firehose_and_glue_tables_in_central_destinations(tmp_path):
    _bucket("central-telemetry-lake", "eu-west-1", INTERNAL)
    glue = boto3.client("glue", region_name="eu-west-1")
    glue.create_database(DatabaseInput={"Name": "central", "LocationUri": "s3://central-telemetry-lake/"})
    for table, columns in (("metrics", ["route", "status", "latency_ms"]), ("contacts", ["route", "email"])):
        glue.create_table(DatabaseName="central", TableInput={"Name": table, "StorageDescriptor": {
            "Columns": [{"Name": c, "Type": "string"} for c in columns],
            "Location": f"s3://central-telemetry-lake/{table}/"}})
    listed = _stream("metrics", "central-telemetry-lake", ("central", "metrics"))  # compliant: approved fields
    forbidden = _stream("contacts", "central-telemetry-lake", ("central", "contacts"))  # violation: email
    whole = _stream("whole", "central-telemetry-lake")  # violation: lists no fields
    table = f"arn:aws:glue:eu-west-1:{ACCOUNT}:table/central/"
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", TELEMETRY) == {
        ("CKV_DH_302", forbidden), ("CKV_DH_302", table + "contacts"), ("CKV_DH_301", whole)}
    assert {("CKV_DH_301", listed), ("CKV_DH_302", listed), ("CKV_DH_301", table + "metrics"),
            ("CKV_DH_302", table + "metrics")} <= results(report, "passed", TELEMETRY)


def test_a_data_protection_policy_that_cannot_be_read_fails_closed(tmp_path):
    from botocore.exceptions import ClientError

    _bucket("central-telemetry-logs", "eu-west-1", INTERNAL)
    masked = _log_group("/app/masked", _stream("to-central", "central-telemetry-logs"))

    def denied(_params):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetDataProtectionPolicy")

    moto_lacks.answers[("logs", "GetDataProtectionPolicy")] = denied
    code, report = _audit(tmp_path)
    assert code == 2
    [gap] = report["unverified"]
    assert "grant logs:GetDataProtectionPolicy" in gap["reason"] and "CKV_DH_303" in gap["checks"]
    assert ("CKV_DH_303", masked) in results(report, "failed", TELEMETRY)  # never a pass on what was not read


def test_delivery_streams_are_listed_past_one_page():
    """ListDeliveryStreams has no botocore paginator: the reader follows HasMoreDeliveryStreams. moto answers
    every stream in one page, so the two pages are botocore's Stubber's."""
    from botocore.stub import Stubber

    from data_handling.model.live.api import Caller, CallLog
    from data_handling.model.live.readers import firehose_streams

    client = boto3.client("firehose", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("list_delivery_streams", {"DeliveryStreamNames": ["a", "b"], "HasMoreDeliveryStreams": True},
                          {"Limit": 10000})
        stub.add_response("list_delivery_streams", {"DeliveryStreamNames": ["c"], "HasMoreDeliveryStreams": False},
                          {"Limit": 10000, "ExclusiveStartDeliveryStreamName": "b"})
        read = firehose_streams(Caller(client, ACCOUNT, "eu-west-1", CallLog()))
    assert [item for _, item in read.pending] == ["a", "b", "c"]
