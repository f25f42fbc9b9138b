"""Who can read or receive the data, read live for CKV_DH_103 (no Confidential store readable by everyone) and
CKV_DH_105 (no sharing outside the organisation), end to end through `data-handling audit` against moto in server
mode (the fixtures of test_live_audit.py): S3 bucket policies, ACLs and public access blocks (the bucket's and the
account's), RDS and Redshift public endpoints, DB snapshots shared by their restore attribute, Secrets Manager,
DynamoDB and Glue resource policies, KMS grants, S3 replication into another account and DLM share rules, each with
a violating and a compliant case and the exact (check, ARN) sets; a denied GetBucketPolicy and ListGrants fail
closed (exit 2). moto has no DLM: its policies are answered through tests/moto_lacks.py (a botocore before-call
handler, as botocore's Stubber answers).
"""

from __future__ import annotations

import json

import boto3
import pytest

import moto_lacks
from data_handling.model.live import read_estate
from test_live_audit import (  # noqa: F401  (fixtures: the moto server, the AWS configuration)
    ACCOUNT,
    CONFIDENTIAL_ACME,
    POLICY_MAP,
    _bucket,
    _post,
    audit,
    auditor,
    aws,
    endpoint,
    enforced,
    results,
)

pytestmark = pytest.mark.usefixtures("aws")
ACCESS = ("CKV_DH_103", "CKV_DH_105")
INSIDE, OUTSIDE = "222222222222", "999999999999"  # an organisation account, and a third party's
ORGANIZATION = "\n".join(["organization:", f'  account_ids: ["{INSIDE}"]', "  id: o-acmecorp01",
                          # data access to these stores is logged by a trail outside the account (CKV_DH_104)
                          "audit:", "  organization_trail:", "    data_events: [s3, dynamodb]", ""])
INTERNAL = [{"Key": "data_class", "Value": "internal"}]
ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def _audit(tmp_path, *args: str):
    policy_map = tmp_path / "organization.yaml"
    policy_map.write_text(POLICY_MAP.read_text() + ORGANIZATION)
    return audit(tmp_path, "--policy-map", str(policy_map), *args)


def _policy(name: str, *statements: dict) -> None:
    boto3.client("s3", region_name="eu-west-1").put_bucket_policy(Bucket=name, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))


def _read(principal, name: str, condition: dict | None = None) -> dict:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{name}/*"}
    return {**statement, "Condition": condition} if condition else statement


def _block(name: str, **off: bool) -> str:
    boto3.client("s3", region_name="eu-west-1").put_public_access_block(
        Bucket=name, PublicAccessBlockConfiguration={**ON, **off})
    return f"arn:aws:s3:::{name}?publicAccessBlock"


def test_bucket_policies_acls_and_public_access_blocks(tmp_path):
    buckets = {name: _bucket(name, "eu-west-1", tags) for name, tags in (
        ("acme-open", CONFIDENTIAL_ACME), ("acme-org-only", CONFIDENTIAL_ACME), ("acme-acl", CONFIDENTIAL_ACME),
        ("acme-unblocked", CONFIDENTIAL_ACME), ("acme-loosened", CONFIDENTIAL_ACME), ("site-assets", INTERNAL),
        ("acme-partner", CONFIDENTIAL_ACME), ("acme-sister", CONFIDENTIAL_ACME))}
    _policy("acme-open", _read("*", "acme-open"))  # 103 and 105: anyone, no condition
    _policy("acme-org-only", _read("*", "acme-org-only", {"StringEquals": {"aws:PrincipalOrgID": "o-acmecorp01"}}))
    boto3.client("s3", region_name="eu-west-1").put_bucket_acl(Bucket="acme-acl", ACL="public-read")  # 103
    _policy("site-assets", _read("*", "site-assets"))  # Internal data may be public and shared
    _policy("acme-partner", _read({"AWS": f"arn:aws:iam::{OUTSIDE}:role/reader"}, "acme-partner"))  # 105
    _policy("acme-sister", _read({"AWS": f"arn:aws:iam::{INSIDE}:root"}, "acme-sister"))
    blocks = {name: _block(name) for name in buckets if name not in ("acme-unblocked", "acme-loosened")}
    blocks["acme-loosened"] = _block("acme-loosened", RestrictPublicBuckets=False)  # 103: one setting off
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    policy = {name: f"{arn}?policy" for name, arn in buckets.items()}
    assert results(report, "failed", ACCESS) == {
        ("CKV_DH_103", policy["acme-open"]), ("CKV_DH_105", policy["acme-open"]),
        ("CKV_DH_103", f"{buckets['acme-acl']}?acl"),
        ("CKV_DH_103", buckets["acme-unblocked"]),  # no block of its own and none for the account
        ("CKV_DH_103", blocks["acme-loosened"]),
        ("CKV_DH_105", policy["acme-partner"])}
    assert results(report, "passed", ACCESS) == {
        *{("CKV_DH_103", policy[name]) for name in ("acme-org-only", "site-assets", "acme-partner", "acme-sister")},
        *{("CKV_DH_105", policy[name]) for name in ("acme-org-only", "site-assets", "acme-sister")},
        *{("CKV_DH_103", block) for name, block in blocks.items() if name != "acme-loosened"},
        *{("CKV_DH_103", arn) for name, arn in buckets.items() if name != "acme-unblocked"}}  # each has a block
    found = {(r["check_id"], r["resource"]): r["details"][0] for r in report["results"]["failed_checks"]}
    assert "allows s3:GetObject to the wildcard principal * with no condition" in \
        found[("CKV_DH_103", policy["acme-open"])]
    assert "any AWS account, those outside the organisation included" in found[("CKV_DH_105", policy["acme-open"])]
    assert "grants READ to AllUsers" in found[("CKV_DH_103", f"{buckets['acme-acl']}?acl")]
    assert "turns off restrict_public_buckets" in found[("CKV_DH_103", blocks["acme-loosened"])]
    assert f"account {OUTSIDE}, outside the organisation" in found[("CKV_DH_105", policy["acme-partner"])]


def test_the_account_public_access_block_covers_every_bucket(tmp_path):
    """S3 Control's account-level block, all four settings on: a bucket without a block of its own, or with one
    that turns settings off, is covered (AWS applies the stricter of the two)."""
    unblocked = _bucket("acme-unblocked", "eu-west-1", CONFIDENTIAL_ACME)
    _bucket("acme-loosened", "eu-west-1", CONFIDENTIAL_ACME)
    loosened = _block("acme-loosened", BlockPublicPolicy=False, RestrictPublicBuckets=False)
    boto3.client("s3control", region_name="us-west-2").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration=ON)
    code, report = _audit(tmp_path)
    assert code == 0 and report["unverified"] == []
    assert results(report, "passed", ("CKV_DH_103",)) == {("CKV_DH_103", unblocked), ("CKV_DH_103", loosened),
                                                          ("CKV_DH_103", "arn:aws:s3:::acme-loosened")}


def test_public_databases_and_shared_snapshots(tmp_path):
    rds = boto3.client("rds", region_name="eu-west-1")
    created = {}
    for name, public in (("acme-public", True), ("acme-private", False)):
        created[name] = rds.create_db_instance(
            DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres", MasterUsername="app",
            MasterUserPassword="not-a-real-one", AllocatedStorage=20, PubliclyAccessible=public,
            Tags=CONFIDENTIAL_ACME)["DBInstance"]["DBInstanceArn"]
    snapshots = {}
    for name, shared in (("acme-private-all", ["all"]), ("acme-private-partner", [OUTSIDE]),
                         ("acme-private-dr", [INSIDE]), ("acme-private-kept", [])):
        snapshots[name] = rds.create_db_snapshot(DBSnapshotIdentifier=name, DBInstanceIdentifier="acme-private")[
            "DBSnapshot"]["DBSnapshotArn"]
        if shared:
            rds.modify_db_snapshot_attribute(DBSnapshotIdentifier=name, AttributeName="restore", ValuesToAdd=shared)
    redshift = boto3.client("redshift", region_name="eu-west-1")
    clusters = {}
    for name, public in (("acme-warehouse-public", True), ("acme-warehouse", False)):
        redshift.create_cluster(ClusterIdentifier=name, NodeType="dc2.large", MasterUsername="app",
                                MasterUserPassword="NotARealOne1", ClusterType="single-node", PubliclyAccessible=public,
                                Tags=CONFIDENTIAL_ACME)
        clusters[name] = f"arn:aws:redshift:eu-west-1:{ACCOUNT}:cluster:{name}"
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", ACCESS) == {
        ("CKV_DH_103", created["acme-public"]), ("CKV_DH_103", clusters["acme-warehouse-public"]),
        ("CKV_DH_103", snapshots["acme-private-all"]), ("CKV_DH_105", snapshots["acme-private-all"]),
        ("CKV_DH_105", snapshots["acme-private-partner"])}
    assert results(report, "passed", ACCESS) == {
        ("CKV_DH_103", created["acme-private"]), ("CKV_DH_103", clusters["acme-warehouse"]),
        *{("CKV_DH_103", arn) for name, arn in snapshots.items() if name != "acme-private-all"},
        ("CKV_DH_105", snapshots["acme-private-dr"])}
    found = {(r["check_id"], r["resource"]): r["details"][0] for r in report["results"]["failed_checks"]}
    assert "sets publicly_accessible = true" in found[("CKV_DH_103", created["acme-public"])]
    # the snapshot's class is its instance's (a reference, as db_instance_identifier is in Terraform)
    assert created["acme-private"] in found[("CKV_DH_105", snapshots["acme-private-partner"])]


def _grant_key(secret: str, grantee: str) -> tuple[str, str]:
    kms = boto3.client("kms", region_name="eu-west-1")
    key = kms.create_key()["KeyMetadata"]
    boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
        Name=secret, SecretString="never read", KmsKeyId=key["KeyId"], Tags=CONFIDENTIAL_ACME)
    grant = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee, Operations=["Decrypt"])["GrantId"]
    return key["Arn"], f"{key['Arn']}/grant/{grant}"


def test_resource_policies_grants_and_replication_across_accounts(tmp_path):
    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    open_secret = secrets.create_secret(Name="acme/open", SecretString="never read", Tags=CONFIDENTIAL_ACME)["ARN"]
    secrets.put_resource_policy(SecretId=open_secret, ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    tables = {}
    for name, account in (("acme-orders", OUTSIDE), ("acme-ledger", INSIDE)):
        tables[name] = dynamodb.create_table(
            TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            Tags=CONFIDENTIAL_ACME)["TableDescription"]["TableArn"]
        statement = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                     "Action": "dynamodb:GetItem", "Resource": tables[name]}
        dynamodb.put_resource_policy(ResourceArn=tables[name], Policy=json.dumps(
            {"Version": "2012-10-17", "Statement": [statement]}))
    _, partner_grant = _grant_key("acme/partner-grant", f"arn:aws:iam::{OUTSIDE}:role/decrypter")
    _, own_grant = _grant_key("acme/own-grant", f"arn:aws:iam::{ACCOUNT}:role/app")
    s3 = boto3.client("s3", region_name="eu-west-1")
    replicated = {}
    for name, account in (("acme-exports", OUTSIDE), ("acme-backups", INSIDE)):
        replicated[name] = _bucket(name, "eu-west-1", CONFIDENTIAL_ACME)
        _block(name)
        s3.put_bucket_replication(Bucket=name, ReplicationConfiguration={
            "Role": f"arn:aws:iam::{ACCOUNT}:role/replication", "Rules": [{
                "ID": "out", "Status": "Enabled", "Priority": 1, "Filter": {},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": f"arn:aws:s3:::{name}-copy", "Account": account,
                                "AccessControlTranslation": {"Owner": "Destination"}}}]})
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", ACCESS) == {
        ("CKV_DH_103", open_secret), ("CKV_DH_105", open_secret),
        ("CKV_DH_105", f"{tables['acme-orders']}/resource-policy"),
        ("CKV_DH_105", partner_grant),
        ("CKV_DH_105", replicated["acme-exports"])}
    passed = results(report, "passed", ACCESS)
    assert {("CKV_DH_105", f"{tables['acme-ledger']}/resource-policy"), ("CKV_DH_105", own_grant),
            ("CKV_DH_105", replicated["acme-backups"]), ("CKV_DH_103", f"{tables['acme-ledger']}/resource-policy"),
            ("CKV_DH_103", f"{tables['acme-orders']}/resource-policy")} <= passed
    found = {(r["check_id"], r["resource"]): r["details"][0] for r in report["results"]["failed_checks"]}
    # a key's data is what it encrypts: the secret under it
    assert "acme/partner-grant" in found[("CKV_DH_105", partner_grant)] and OUTSIDE in found[
        ("CKV_DH_105", partner_grant)]
    assert f'destination.account "{OUTSIDE}"' in found[("CKV_DH_105", replicated["acme-exports"])]


def test_a_replica_secret_has_its_primary_s_policy(tmp_path):
    """Secrets Manager refuses GetResourcePolicy on a replica: its policy is the primary's, taken from the
    primary's record; with the primary's region not audited it is unknown, the replica fails closed and the gap is
    listed."""
    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    primary = secrets.create_secret(Name="acme/shared", SecretString="never read", Tags=CONFIDENTIAL_ACME,
                                    AddReplicaRegions=[{"Region": "us-east-1"}])["ARN"]
    secrets.put_resource_policy(SecretId=primary, ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OUTSIDE}:root"},
         "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    replica = primary.replace(":eu-west-1:", ":us-east-1:")
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", ACCESS) == {("CKV_DH_105", primary), ("CKV_DH_105", replica)}
    code, report = _audit(tmp_path, "--regions", "us-east-1")
    assert code == 2
    [gap] = report["unverified"]
    assert gap["scope"] == replica and "eu-west-1" in gap["reason"] and "CKV_DH_105" in gap["checks"]
    assert results(report, "failed", ACCESS) == {("CKV_DH_103", replica), ("CKV_DH_105", replica)}


def test_a_glue_catalog_policy_open_to_everyone(tmp_path):
    glue = boto3.client("glue", region_name="eu-west-1")
    glue.create_database(DatabaseInput={"Name": "acme"}, Tags={"data_class": "confidential", "tenant": "acme"})
    glue.put_resource_policy(PolicyInJson=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "glue:GetTable",
         "Resource": f"arn:aws:glue:eu-west-1:{ACCOUNT}:*"}]}))
    code, report = _audit(tmp_path, "--regions", "eu-west-1")
    assert code == 1
    catalog = f"arn:aws:glue:eu-west-1:{ACCOUNT}:catalog/resource-policy"
    assert results(report, "failed", ACCESS) == {("CKV_DH_103", catalog), ("CKV_DH_105", catalog)}


def test_dlm_share_rules(tmp_path):
    """DLM shares the snapshots a policy creates with share_rule target accounts (moto has no DLM: the policies
    are answered through tests/moto_lacks.py, as GetLifecyclePolicy returns them)."""
    arn = {name: f"arn:aws:dlm:eu-west-1:{ACCOUNT}:policy/{name}" for name in ("to-partner", "to-dr")}
    accounts = {"to-partner": OUTSIDE, "to-dr": INSIDE}
    moto_lacks.answers[("dlm", "GetLifecyclePolicies")] = lambda _: {"Policies": [
        {"PolicyId": name, "State": "ENABLED"} for name in arn]}
    moto_lacks.answers[("dlm", "GetLifecyclePolicy")] = lambda params: {"Policy": {
        "PolicyId": params["PolicyId"], "State": "ENABLED", "PolicyArn": arn[params["PolicyId"]],
        "PolicyDetails": {"ResourceTypes": ["VOLUME"], "TargetTags": [{"Key": "data_class", "Value": "confidential"}],
                          "Schedules": [{"Name": "nightly", "ShareRules": [
                              {"TargetAccounts": [accounts[params["PolicyId"]]]}]}]}}}
    code, report = _audit(tmp_path, "--regions", "eu-west-1")
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", ("CKV_DH_105",)) == {("CKV_DH_105", arn["to-partner"])}
    assert results(report, "passed", ("CKV_DH_105",)) == {("CKV_DH_105", arn["to-dr"])}


def test_each_new_listing_is_read_once_per_region():
    estate = read_estate([boto3.Session()], ["eu-west-1", "us-east-1"])
    for listing in (("rds", "DescribeDBSnapshots"), ("rds", "DescribeDBClusterSnapshots"),
                    ("glue", "GetResourcePolicy")):
        assert estate.log.calls.count(listing) == 2, listing
    assert estate.log.calls.count(("s3control", "GetPublicAccessBlock")) == 1  # account-wide
    assert not estate.gaps


# --- fail closed ---------------------------------------------------------------------------------------------

DENIED = ("s3:GetBucketPolicy", "kms:ListGrants")


def _limited_user() -> dict[str, str]:
    """The audit policy minus DENIED. moto authorises the S3 calls it has no action name for (GetBucketReplication,
    GetPublicAccessBlock) as s3:ListBucket, and S3 Control's GetPublicAccessBlock as s3:GetPublicAccessBlock (AWS:
    s3:GetAccountPublicAccessBlock)."""
    return auditor(DENIED, ("s3:ListBucket", "s3:GetPublicAccessBlock"))


def test_a_denied_bucket_policy_or_grant_listing_fails_closed(enforced, tmp_path, capsys):  # noqa: F811
    bucket = _bucket("acme-orders", "eu-west-1", CONFIDENTIAL_ACME)
    _block("acme-orders")
    key, _ = _grant_key("acme/vaulted", f"arn:aws:iam::{ACCOUNT}:role/app")
    enforced(_limited_user())
    code, report = _audit(tmp_path)
    assert code == 2
    # (moto refuses the signature of EFS, Backup and Bedrock requests made with an IAM user's keys: those listings
    # are gaps here, whatever the policy grants)
    unverified = {item["scope"]: item for item in report["unverified"]
                  if not item["scope"].endswith(("efs", "backup", "bedrock"))}
    assert set(unverified) == {bucket, key}
    assert "s3:GetBucketPolicy" in unverified[bucket]["reason"] and "grant s3:GetBucketPolicy" in \
        unverified[bucket]["reason"]
    assert {"CKV_DH_103", "CKV_DH_105"} <= set(unverified[bucket]["checks"])
    assert "CKV_DH_105" in unverified[key]["checks"] and "kms:ListGrants" in unverified[key]["reason"]
    # what could not be read never passes: the policy may open the bucket or share it; the grants may reach anyone
    assert results(report, "failed", ACCESS) == {("CKV_DH_103", f"{bucket}?policy"), ("CKV_DH_105", f"{bucket}?policy"),
                                                 ("CKV_DH_105", f"{key}/grant/*")}
    found = {(r["check_id"], r["resource"]): r["details"][0] for r in report["results"]["failed_checks"]}
    assert "s3:GetBucketPolicy was denied" in found[("CKV_DH_103", f"{bucket}?policy")]
    # the advice is the audit's, not Terraform's
    for details in (found[("CKV_DH_103", f"{bucket}?policy")], found[("CKV_DH_105", f"{bucket}?policy")]):
        assert "grant the audit's role" in details.lower(), details
        assert "scan the plan" not in details and "Terraform" not in details, details
    assert "kms:ListGrants was denied" in found[("CKV_DH_105", f"{key}/grant/*")]
    assert "could not be read" in capsys.readouterr().err
