"""The CKV_DH_102 copy mechanisms the live audit reads beyond the first increment, end to end through
`data-handling audit` against moto in server mode (fixtures of test_live_audit.py): AWS Backup plans and their
selections, Redshift snapshot copy, S3 Multi-Region Access Points, ElastiCache global datastores, EFS
replication, DLM cross-Region copy rules, MemoryDB multi-Region clusters. Each has a violating and a compliant
case, and the exact (check, ARN) sets are asserted.

Where moto does not implement an API (AWS Backup ListBackupSelections/GetBackupSelection, ElastiCache
DescribeGlobalReplicationGroups, EFS DescribeReplicationConfigurations, DLM, MemoryDB multi-Region clusters), its
answer is stubbed: through tests/moto_lacks.py (a botocore before-call handler, the mechanism of botocore's
Stubber, so the audit's own sessions are answered) in the end-to-end tests, and with botocore's Stubber on a
client for EFS replication and MemoryDB.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

import moto_lacks
from data_handling.model.live.api import Caller, CallLog
from data_handling.policy.loader import load
from data_handling.rules.evaluation import evaluate_model
from data_handling.rules.registry import RULES
from test_live_audit import (  # noqa: F401  (fixtures: the moto server, the AWS configuration, IAM enforcement)
    ACCOUNT,
    CONFIDENTIAL_ACME,
    POLICY_MAP,
    _bucket,
    audit,
    auditor,
    aws,
    endpoint,
    enforced,
    results,
)

INTERNAL = [{"Key": "data_class", "Value": "internal"}, {"Key": "tenant", "Value": "acme"}]
COPY = ("CKV_DH_102",)
pytestmark = pytest.mark.usefixtures("aws")  # a fresh moto estate per test, and the moto_lacks answers


def _evaluated(read) -> dict[str, set[tuple[str, str]]]:
    """A reader's records linked and judged by the rules, without a server (for the Stubber tests)."""
    from data_handling.model.live.estate import _link

    infra = _link(read, [ACCOUNT], ["eu-west-1", "us-east-1"])
    found: dict[str, set[tuple[str, str]]] = {"PASSED": set(), "FAILED": set()}
    for evaluation in evaluate_model(infra, load(POLICY_MAP).policy, RULES):
        found.setdefault(evaluation.result, set()).add((evaluation.check_id, evaluation.resource.address))
    return found


# --- AWS Backup ---------------------------------------------------------------------------------------------

def _plan(name: str, destination_region: str) -> tuple[str, str]:
    created = boto3.client("backup", region_name="eu-west-1").create_backup_plan(BackupPlan={
        "BackupPlanName": name, "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "primary",
                                           "CopyActions": [{"DestinationBackupVaultArn":
                                                            f"arn:aws:backup:{destination_region}:{ACCOUNT}:"
                                                            "backup-vault:dr"}]}]})
    return created["BackupPlanId"], created["BackupPlanArn"]


def _selections(by_plan: dict[str, dict]) -> None:
    """moto has no backup selections: each plan's one selection is answered from `by_plan`."""
    moto_lacks.answers[("backup", "ListBackupSelections")] = lambda params: {"BackupSelectionsList": [
        {"SelectionId": f"sel-{params['BackupPlanId']}", "SelectionName": "data",
         "BackupPlanId": params["BackupPlanId"]}] if params["BackupPlanId"] in by_plan else []}
    moto_lacks.answers[("backup", "GetBackupSelection")] = lambda params: {
        "BackupPlanId": params["BackupPlanId"], "SelectionId": params["SelectionId"],
        "BackupSelection": dict(by_plan[params["BackupPlanId"]], SelectionName="data",
                                IamRoleArn=f"arn:aws:iam::{ACCOUNT}:role/backup")}


def test_backup_copy_actions_of_what_the_selections_pick(tmp_path):
    table = boto3.client("dynamodb", region_name="eu-west-1").create_table(
        TableName="acme-metrics", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        Tags=INTERNAL)["TableDescription"]["TableArn"]
    confidential = _bucket("acme-ledger", "eu-west-1", CONFIDENTIAL_ACME)
    by_tag, by_tag_arn = _plan("by-tag", "us-east-1")  # violation: Confidential by tag, copied to us-east-1
    local, local_arn = _plan("local", "eu-west-1")  # compliant: the copy stays in eu-west-1
    internal, internal_arn = _plan("internal", "us-east-1")  # compliant: an Internal table, listed by ARN
    by_arn, by_arn_arn = _plan("by-arn", "us-east-1")  # violation: a Confidential bucket, listed by ARN
    condition, condition_arn = _plan("condition", "us-east-1")  # violation: Conditions StringEquals
    tag = [{"ConditionType": "STRINGEQUALS", "ConditionKey": "data_class", "ConditionValue": "confidential"}]
    _selections({by_tag: {"ListOfTags": tag}, local: {"ListOfTags": tag}, internal: {"Resources": [table]},
                 by_arn: {"Resources": [confidential]},
                 condition: {"Resources": ["*"], "Conditions": {"StringEquals": [
                     {"ConditionKey": "aws:ResourceTag/data_class", "ConditionValue": "confidential"}]}}})
    code, report = audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", COPY) == {("CKV_DH_102", by_tag_arn), ("CKV_DH_102", by_arn_arn),
                                               ("CKV_DH_102", condition_arn)}
    assert results(report, "passed", COPY) == {("CKV_DH_102", local_arn), ("CKV_DH_102", internal_arn)}
    [finding] = [r for r in report["results"]["failed_checks"] if r["resource"] == by_arn_arn]
    assert "us-east-1" in finding["details"][0] and "acme-ledger" in finding["details"][0]


def test_a_plan_whose_selections_cannot_be_read_fails_closed(tmp_path):
    _, plan_arn = _plan("unreadable", "us-east-1")

    def denied(params):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListBackupSelections")

    moto_lacks.answers[("backup", "ListBackupSelections")] = denied
    code, report = audit(tmp_path)
    assert code == 2
    [gap] = report["unverified"]
    assert gap["scope"] == plan_arn and "grant backup:ListBackupSelections" in gap["reason"]
    assert "CKV_DH_102" in gap["checks"]
    assert results(report, "failed", COPY) == {("CKV_DH_102", plan_arn)}  # its sources are unseen: not a pass


def test_a_selection_that_cannot_be_read_fails_its_plan_closed(tmp_path):
    """One selection of two is denied: the other (an Internal table) must not decide the plan alone."""
    table = boto3.client("dynamodb", region_name="eu-west-1").create_table(
        TableName="acme-metrics", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        Tags=INTERNAL)["TableDescription"]["TableArn"]
    plan, plan_arn = _plan("partly-readable", "us-east-1")
    moto_lacks.answers[("backup", "ListBackupSelections")] = lambda params: {"BackupSelectionsList": [
        {"SelectionId": name, "SelectionName": name, "BackupPlanId": plan} for name in ("readable", "denied")]}

    def selection(params):
        if params["SelectionId"] == "denied":
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetBackupSelection")
        return {"BackupSelection": {"SelectionName": "readable", "IamRoleArn": "arn:aws:iam::1:role/b",
                                    "Resources": [table]}}

    moto_lacks.answers[("backup", "GetBackupSelection")] = selection
    code, report = audit(tmp_path)
    assert code == 2
    assert [gap["scope"] for gap in report["unverified"]] == [f"{plan_arn}/selection:denied"]
    assert "grant backup:GetBackupSelection" in report["unverified"][0]["reason"]
    assert results(report, "failed", COPY) == {("CKV_DH_102", plan_arn)}


# --- Redshift snapshot copy ---------------------------------------------------------------------------------

def _cluster(name: str, tags: list[dict], copy_to: str | None) -> str:
    redshift = boto3.client("redshift", region_name="eu-west-1")
    redshift.create_cluster(ClusterIdentifier=name, NodeType="dc2.large", MasterUsername="admin",
                            MasterUserPassword="Not-a-real-1", Tags=tags)
    if copy_to:
        redshift.enable_snapshot_copy(ClusterIdentifier=name, DestinationRegion=copy_to)
    return f"arn:aws:redshift:eu-west-1:{ACCOUNT}:cluster:{name}"


def test_redshift_snapshot_copy_to_another_region(tmp_path):
    copied = _cluster("acme-warehouse", CONFIDENTIAL_ACME, "us-east-1")
    internal = _cluster("acme-metrics", INTERNAL, "us-east-1")
    kept = _cluster("acme-local", CONFIDENTIAL_ACME, None)
    code, report = audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed") == {("CKV_DH_102", copied)}
    assert results(report, "passed", COPY) == {("CKV_DH_102", internal)}  # no copy: CKV_DH_102 does not apply
    assert {("CKV_DH_100", kept), ("CKV_DH_101", kept)} <= results(report, "passed")


# --- S3 Multi-Region Access Points --------------------------------------------------------------------------

def _access_point(name: str, buckets: list[str]) -> str:
    control = boto3.client("s3control", region_name="us-west-2")
    control.create_multi_region_access_point(AccountId=ACCOUNT, ClientToken=name, Details={
        "Name": name, "Regions": [{"Bucket": bucket} for bucket in buckets]})
    alias = control.get_multi_region_access_point(AccountId=ACCOUNT, Name=name)["AccessPoint"]["Alias"]
    return f"arn:aws:s3::{ACCOUNT}:accesspoint/{alias}"


def test_multi_region_access_points_serve_each_bucket_from_every_region(tmp_path):
    eu = _bucket("acme-media-eu", "eu-west-1", CONFIDENTIAL_ACME)
    us = _bucket("acme-media-us", "us-east-1", CONFIDENTIAL_ACME)
    _bucket("acme-assets-eu", "eu-west-1", INTERNAL)
    _bucket("acme-assets-us", "us-east-1", INTERNAL)
    media = _access_point("media", ["acme-media-eu", "acme-media-us"])
    assets = _access_point("assets", ["acme-assets-eu", "acme-assets-us"])
    code, report = audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed") == {("CKV_DH_102", media), ("CKV_DH_101", us)}
    assert ("CKV_DH_102", assets) in results(report, "passed")
    assert ("CKV_DH_101", eu) in results(report, "passed")


# --- ElastiCache global datastores --------------------------------------------------------------------------

def _replication_group(name: str, region: str, tags: list[dict], datastore: str) -> str:
    return boto3.client("elasticache", region_name=region).create_replication_group(
        ReplicationGroupId=name, ReplicationGroupDescription=name, Engine="redis", CacheNodeType="cache.t3.micro",
        GlobalReplicationGroupId=datastore, Tags=tags)["ReplicationGroup"]["ARN"]


def _datastores(members: dict[str, list[tuple[str, str, str]]]) -> None:
    """moto has no DescribeGlobalReplicationGroups: each region is answered with the datastores of `members`
    (id -> [(replication group, region, role)]) that have a member there."""
    def answer(_params):
        return {"GlobalReplicationGroups": [
            {"GlobalReplicationGroupId": identifier, "ARN": f"arn:aws:elasticache::{ACCOUNT}:globalreplicationgroup:"
             f"{identifier}", "Members": [{"ReplicationGroupId": group, "ReplicationGroupRegion": region,
                                           "Role": role} for group, region, role in listed]}
            for identifier, listed in members.items()]}
    moto_lacks.answers[("elasticache", "DescribeGlobalReplicationGroups")] = answer


def test_elasticache_global_datastores_across_regions(tmp_path):
    primary = _replication_group("acme-cache", "eu-west-1", CONFIDENTIAL_ACME, "ldgnf-acme-cache")
    secondary = _replication_group("acme-cache-us", "us-east-1", CONFIDENTIAL_ACME, "ldgnf-acme-cache")
    _replication_group("acme-flags", "eu-west-1", INTERNAL, "ldgnf-acme-flags")
    _replication_group("acme-flags-us", "us-east-1", INTERNAL, "ldgnf-acme-flags")
    _datastores({"ldgnf-acme-cache": [("acme-cache", "eu-west-1", "PRIMARY"), ("acme-cache-us", "us-east-1",
                                                                               "SECONDARY")],
                 "ldgnf-acme-flags": [("acme-flags", "eu-west-1", "PRIMARY"), ("acme-flags-us", "us-east-1",
                                                                               "SECONDARY")]})
    code, report = audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    cache = f"arn:aws:elasticache::{ACCOUNT}:globalreplicationgroup:ldgnf-acme-cache"
    flags = f"arn:aws:elasticache::{ACCOUNT}:globalreplicationgroup:ldgnf-acme-flags"
    assert results(report, "failed") == {("CKV_DH_102", cache), ("CKV_DH_101", secondary)}
    assert ("CKV_DH_102", flags) in results(report, "passed")
    assert ("CKV_DH_101", primary) in results(report, "passed")
    [finding] = [r for r in report["results"]["failed_checks"] if r["resource"] == cache]
    assert "acme-cache-us" in finding["details"][0] and "us-east-1" in finding["details"][0]


def test_a_datastore_member_in_a_region_not_audited_is_not_verified(tmp_path):
    """The datastore's secondary is in us-west-2, which is not audited: the copy is not taken as one region's."""
    _replication_group("acme-cache", "eu-west-1", CONFIDENTIAL_ACME, "ldgnf-acme-cache")
    _datastores({"ldgnf-acme-cache": [("acme-cache", "eu-west-1", "PRIMARY"), ("acme-cache-w2", "us-west-2",
                                                                           "SECONDARY")]})
    code, report = audit(tmp_path)
    assert code == 2
    cache = f"arn:aws:elasticache::{ACCOUNT}:globalreplicationgroup:ldgnf-acme-cache"
    [gap] = report["unverified"]
    assert gap["scope"] == cache and "CKV_DH_102" in gap["checks"]
    assert f"arn:aws:elasticache:us-west-2:{ACCOUNT}:replicationgroup:acme-cache-w2" in gap["reason"]
    assert "us-west-2, which this audit does not read" in gap["reason"]


# --- DLM ----------------------------------------------------------------------------------------------------

def _dlm(policies: dict[str, tuple[str, str]]) -> dict[str, str]:
    """moto has no DLM: policy ID -> (the data_class its target tags select, the copy's target region)."""
    moto_lacks.answers[("dlm", "GetLifecyclePolicies")] = lambda _: {"Policies": [
        {"PolicyId": policy_id, "State": "ENABLED"} for policy_id in policies]}
    moto_lacks.answers[("dlm", "GetLifecyclePolicy")] = lambda params: {"Policy": {
        "PolicyId": params["PolicyId"], "State": "ENABLED", "PolicyArn": _dlm_arn(params["PolicyId"]),
        "PolicyDetails": {"PolicyType": "EBS_SNAPSHOT_MANAGEMENT", "ResourceTypes": ["VOLUME"],
                          "TargetTags": [{"Key": "data_class", "Value": policies[params["PolicyId"]][0]}],
                          "Schedules": [{"Name": "daily", "CrossRegionCopyRules": [
                              {"TargetRegion": policies[params["PolicyId"]][1], "Encrypted": True}]}]}}}
    return {policy_id: _dlm_arn(policy_id) for policy_id in policies}


def _dlm_arn(policy_id: str) -> str:
    return f"arn:aws:dlm:eu-west-1:{ACCOUNT}:policy/{policy_id}"


def test_dlm_cross_region_copy_of_what_the_target_tags_select(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    arns = _dlm({"policy-confidential": ("confidential", "us-east-1"), "policy-internal": ("internal", "us-east-1"),
                 "policy-local": ("confidential", "eu-west-1")})
    code, report = audit(tmp_path, "--regions", "eu-west-1")
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed") == {("CKV_DH_102", arns["policy-confidential"])}
    assert results(report, "passed", COPY) == {("CKV_DH_102", arns["policy-internal"]),
                                               ("CKV_DH_102", arns["policy-local"])}


# --- EFS replication and MemoryDB multi-Region clusters: botocore's Stubber -----------------------------------

def test_efs_replication_to_another_region():
    """moto does not implement DescribeReplicationConfigurations: botocore's Stubber answers it."""
    from data_handling.model.live.readers import efs

    client = boto3.client("efs", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    system = f"arn:aws:elasticfilesystem:eu-west-1:{ACCOUNT}:file-system/fs-1"
    other = f"arn:aws:elasticfilesystem:eu-west-1:{ACCOUNT}:file-system/fs-2"
    with Stubber(client) as stub:
        stub.add_response("describe_file_systems", {"FileSystems": [
            {"FileSystemId": fs, "FileSystemArn": arn, "Tags": tags, "OwnerId": ACCOUNT, "CreationToken": fs,
             "CreationTime": 0, "LifeCycleState": "available", "NumberOfMountTargets": 0, "PerformanceMode":
             "generalPurpose", "SizeInBytes": {"Value": 0}}
            for fs, arn, tags in (("fs-1", system, CONFIDENTIAL_ACME), ("fs-2", other, CONFIDENTIAL_ACME))]}, {})
        stub.add_response("describe_replication_configurations", {"Replications": [
            {"SourceFileSystemId": fs, "SourceFileSystemArn": arn, "SourceFileSystemRegion": "eu-west-1",
             "OriginalSourceFileSystemArn": arn, "CreationTime": 0,
             "Destinations": [{"Status": "ENABLED", "FileSystemId": f"{fs}-copy", "Region": region}]}
            for fs, arn, region in (("fs-1", system, "us-east-1"), ("fs-2", other, "eu-west-1"))]}, {})
        read = efs(Caller(client, ACCOUNT, "eu-west-1", CallLog()))
    found = _evaluated(read)
    assert {f for f in found["FAILED"] if f[0] in COPY} == {("CKV_DH_102", f"{system}/replication-configuration")}
    assert {f for f in found["PASSED"] if f[0] in COPY} == {("CKV_DH_102", f"{other}/replication-configuration")}


@pytest.mark.parametrize("tags,result", [(CONFIDENTIAL_ACME, "FAILED"), (INTERNAL, "PASSED")])
def test_memorydb_multi_region_clusters(tags, result):
    """moto's MemoryDB has no multi-Region clusters (it ignores MultiRegionClusterName): botocore's Stubber."""
    from data_handling.model.live.estate import _link  # noqa: F401  (used by _evaluated)
    from data_handling.model.live.readers import Read, memorydb

    group = f"arn:aws:memorydb::{ACCOUNT}:multiregioncluster/virxk-acme"
    read = Read()
    for region in ("eu-west-1", "us-east-1"):
        client = boto3.client("memorydb", region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        arn = f"arn:aws:memorydb:{region}:{ACCOUNT}:cluster/acme-{region}"
        with Stubber(client) as stub:
            stub.add_response("describe_clusters", {"Clusters": [
                {"Name": f"acme-{region}", "ARN": arn, "MultiRegionClusterName": "virxk-acme"}]}, {})
            stub.add_response("describe_multi_region_clusters", {"MultiRegionClusters": [
                {"MultiRegionClusterName": "virxk-acme", "ARN": group}]}, {"ShowClusterDetails": True})
            stub.add_response("list_tags", {"TagList": tags}, {"ResourceArn": arn})
            caller = Caller(client, ACCOUNT, region, CallLog())
            listed = memorydb(caller)
            for describe, item in listed.pending:
                listed.add(describe(caller, item))
        read.records += listed.records
    found = _evaluated(read)
    assert {f for f in found[result] if f[0] in COPY} == {("CKV_DH_102", group)}
    assert not {f for f in found["FAILED" if result == "PASSED" else "PASSED"] if f[0] in COPY}


# --- fail closed: each new listing denied ---------------------------------------------------------------------

MOTO_DENIED = ("redshift:DescribeClusters", "elasticache:DescribeReplicationGroups", "memorydb:DescribeClusters",
               "backup:ListBackupPlans")
STUB_DENIED = (("dlm", "GetLifecyclePolicies"), ("efs", "DescribeReplicationConfigurations"),
               ("elasticache", "DescribeGlobalReplicationGroups"), ("memorydb", "DescribeMultiRegionClusters"))


def test_denied_listings_are_not_verified(enforced, tmp_path, monkeypatch):  # noqa: F811
    """moto's IAM enforcement denies what the policy lacks; the listings moto lacks are denied by their stubs."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    credentials = auditor(MOTO_DENIED)

    def denied(service: str, operation: str):
        def answer(_params):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, operation)
        return answer

    for service, operation in STUB_DENIED:
        moto_lacks.answers[(service, operation)] = denied(service, operation)
    enforced(credentials)
    code, report = audit(tmp_path, "--regions", "eu-west-1")
    assert code == 2
    reasons = " | ".join(item["reason"] for item in report["unverified"])
    for action in (*MOTO_DENIED, "dlm:GetLifecyclePolicies", "elasticfilesystem:DescribeReplicationConfiguration",
                   "elasticache:DescribeGlobalReplicationGroups", "memorydb:DescribeMultiRegionClusters"):
        assert f"grant {action}" in reasons, action
    for item in report["unverified"]:
        if "DescribeReplicationConfigurations" in item["reason"] or "GetLifecyclePolicies" in item["reason"]:
            assert "CKV_DH_102" in item["checks"], item


def test_multi_region_access_points_are_listed_past_one_page():
    """No botocore paginator: the reader follows NextToken; moto answers in one page, so the pages are Stubber's."""
    from data_handling.model.live.readers import s3_multi_region_access_points

    client = boto3.client("s3control", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("list_multi_region_access_points", {"AccessPoints": [{"Name": "a", "Alias": "a.mrap"}],
                                                              "NextToken": "t"}, {"AccountId": ACCOUNT})
        stub.add_response("list_multi_region_access_points", {"AccessPoints": [{"Name": "b", "Alias": "b.mrap"}]},
                          {"AccountId": ACCOUNT, "NextToken": "t"})
        read = s3_multi_region_access_points(Caller(client, ACCOUNT, "us-west-2", CallLog()))
    assert [record.name for record, _ in read.records] == ["a", "b"]
