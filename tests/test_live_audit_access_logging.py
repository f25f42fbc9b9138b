"""CKV_DH_104 read live: data access to a Confidential store is logged. End to end through `data-handling audit`
against moto in server mode (the fixtures of test_live_audit.py), exact (check, ARN) sets.

What the audit reads: CloudTrail trails (DescribeTrails with shadow trails, each in its home region; GetTrailStatus
for IsLogging; GetEventSelectors as event_selector / advanced_event_selector blocks), S3 server access logging
(GetBucketLogging, as an aws_s3_bucket_logging of the bucket), RDS and Aurora log exports with the parameter and
option groups they name (DescribeDBParameters, DescribeDBClusterParameters, DescribeOptionGroups), Redshift audit
logging (DescribeLoggingStatus) and its parameter group. moto implements them all but the Redshift parameter
group's contents (answered through tests/moto_lacks.py, say so in test_redshift_audit_logging_and_user_activity).
"""

from __future__ import annotations

import boto3
import pytest

import moto_lacks
from test_live_audit import ACCOUNT, POLICY_MAP, _bucket, audit, auditor, aws, endpoint, enforced, results  # noqa: F401  (fixtures: the moto server, the AWS configuration)

pytestmark = pytest.mark.usefixtures("aws")
CHECK = ("CKV_DH_104",)
CONFIDENTIAL = [{"Key": "data_class", "Value": "confidential"}, {"Key": "tenant", "Value": "acme"}]
INTERNAL = [{"Key": "data_class", "Value": "internal"}]


def _audit(tmp_path, *extra_yaml: str):
    policy_map = tmp_path / "policy.yaml"
    policy_map.write_text(POLICY_MAP.read_text() + "".join(extra_yaml))
    return audit(tmp_path, "--policy-map", str(policy_map), "--regions", "eu-west-1")


def _trail(name: str, *, advanced: list | None = None, basic: list | None = None, logging: bool = True,
           multi_region: bool = True) -> str:
    """A trail writing to a bucket of its own (Internal), started unless logging is False (AWS creates a trail
    stopped: Terraform's enable_logging starts it)."""
    _bucket(f"{name}-trail-logs", "eu-west-1", INTERNAL)
    cloudtrail = boto3.client("cloudtrail", region_name="eu-west-1")
    arn = cloudtrail.create_trail(Name=name, S3BucketName=f"{name}-trail-logs",
                                  IsMultiRegionTrail=multi_region)["TrailARN"]
    if advanced is not None:
        cloudtrail.put_event_selectors(TrailName=name, AdvancedEventSelectors=advanced)
    if basic is not None:
        cloudtrail.put_event_selectors(TrailName=name, EventSelectors=basic)
    if logging:
        cloudtrail.start_logging(Name=name)
    return arn


def _objects_of(*buckets: str) -> list:
    return [{"Name": "Confidential objects", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{bucket}/" for bucket in buckets]}]}]


def test_buckets_by_trail_selectors_and_server_access_logging(tmp_path):
    unlogged = _bucket("acme-unlogged", "eu-west-1", CONFIDENTIAL)  # violation: nothing logs its reads
    by_trail = _bucket("acme-by-trail", "eu-west-1", CONFIDENTIAL)  # compliant: the trail's data events select it
    by_basic = _bucket("acme-by-basic", "eu-west-1", CONFIDENTIAL)  # compliant: a basic data_resource selects it
    partly = _bucket("acme-partly", "eu-west-1", CONFIDENTIAL)  # violation: only a key prefix is selected
    by_logs = _bucket("acme-by-logs", "eu-west-1", CONFIDENTIAL)  # compliant: server access logging
    internal = _bucket("acme-metrics", "eu-west-1", INTERNAL)  # not judged: Internal
    _bucket("acme-access-logs", "eu-west-1", INTERNAL)
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.put_bucket_acl(Bucket="acme-access-logs", ACL="log-delivery-write")
    s3.put_bucket_logging(Bucket="acme-by-logs", BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": "acme-access-logs", "TargetPrefix": "acme-by-logs/"}})
    trail = _trail("objects", advanced=_objects_of("acme-by-trail"))
    _trail("legacy", basic=[{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::acme-by-basic/", "arn:aws:s3:::acme-partly/exports/"]}]}])
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", CHECK) == {("CKV_DH_104", unlogged), ("CKV_DH_104", partly)}
    assert results(report, "passed", CHECK) >= {("CKV_DH_104", by_trail), ("CKV_DH_104", by_basic),
                                                ("CKV_DH_104", by_logs)}
    assert ("CKV_DH_104", internal) not in results(report, "passed", CHECK) | results(report, "failed", CHECK)
    [finding] = [r for r in report["results"]["failed_checks"]
                 if r["resource"] == partly and r["check_id"] == CHECK[0]]
    assert "selects only some of its objects" in finding["details"][0], finding["details"][0]
    # the access-log delivery is a raw log flow of its own (CKV_DH_303), judged as in Terraform: not central
    assert {("CKV_DH_303", f"{by_logs}:logging"), ("CKV_DH_303", trail)} <= results(report, "passed", ("CKV_DH_303",))


def test_a_trail_that_is_not_logging_or_records_another_region_covers_nothing(tmp_path):
    stopped = _bucket("acme-stopped", "eu-west-1", CONFIDENTIAL)
    elsewhere = _bucket("acme-elsewhere", "eu-west-1", CONFIDENTIAL)
    _trail("stopped", advanced=_objects_of("acme-stopped"), logging=False)  # created, never started
    us = boto3.client("cloudtrail", region_name="us-east-1")  # a single-region trail of us-east-1
    _bucket("us-trail-logs", "us-east-1", INTERNAL)
    us.create_trail(Name="us-only", S3BucketName="us-trail-logs", IsMultiRegionTrail=False)
    us.put_event_selectors(TrailName="us-only", AdvancedEventSelectors=_objects_of("acme-elsewhere"))
    us.start_logging(Name="us-only")
    policy_map = tmp_path / "policy.yaml"
    policy_map.write_text(POLICY_MAP.read_text())
    code, report = audit(tmp_path, "--policy-map", str(policy_map), "--regions", "eu-west-1,us-east-1")
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", CHECK) == {("CKV_DH_104", stopped), ("CKV_DH_104", elsewhere)}
    details = {r["resource"]: r["details"][0] for r in report["results"]["failed_checks"] if r["check_id"] in CHECK}
    assert "has enable_logging = false" in details[stopped]
    assert "single-region trail in us-east-1" in details[elsewhere]


def test_a_multi_region_trail_homed_in_a_region_not_audited_is_read_where_listed(tmp_path):
    """Auditing eu-west-1 alone, a multi-Region trail homed in us-east-1 is listed there as a shadow trail and
    described by its ARN. moto looks a trail's selectors up in the region called only: GetEventSelectors is
    answered through tests/moto_lacks.py with what moto holds in the trail's home region."""
    bucket = _bucket("acme-orders", "eu-west-1", CONFIDENTIAL)
    _bucket("org-trail-logs", "us-east-1", INTERNAL)
    us = boto3.client("cloudtrail", region_name="us-east-1")
    arn = us.create_trail(Name="org-wide", S3BucketName="org-trail-logs", IsMultiRegionTrail=True)["TrailARN"]
    us.put_event_selectors(TrailName="org-wide", AdvancedEventSelectors=_objects_of("acme-orders"))
    us.start_logging(Name="org-wide")
    held = us.get_event_selectors(TrailName=arn)
    moto_lacks.answers[("cloudtrail", "GetEventSelectors")] = lambda params: {
        key: held[key] for key in ("TrailARN", "AdvancedEventSelectors")} if params["TrailName"] == arn else {}
    code, report = _audit(tmp_path)
    # exit 1: the bucket has no public access block (CKV_DH_103); nothing about its logging is unread or failed
    assert code == 1 and report["unverified"] == [] and not results(report, "failed", CHECK)
    assert ("CKV_DH_104", bucket) in results(report, "passed", CHECK)


def test_the_organization_trail_declaration_works_as_in_terraform(tmp_path):
    bucket = _bucket("acme-orders", "eu-west-1", CONFIDENTIAL)
    table = boto3.client("dynamodb", region_name="eu-west-1").create_table(
        TableName="acme-carts", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        Tags=CONFIDENTIAL)["TableDescription"]["TableArn"]
    code, report = _audit(tmp_path)
    assert results(report, "failed", CHECK) == {("CKV_DH_104", bucket), ("CKV_DH_104", table)}
    [finding] = [r for r in report["results"]["failed_checks"] if r["resource"] == bucket and r["check_id"] in CHECK]
    assert "declare audit.organization_trail.data_events: [s3]" in finding["details"][0]
    code, report = _audit(tmp_path, "audit:\n  organization_trail:\n    data_events: [s3]\n")
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", CHECK) == {("CKV_DH_104", table)}  # only S3 was declared
    assert ("CKV_DH_104", bucket) in results(report, "passed", CHECK)


def test_management_events_and_tables(tmp_path):
    """A trail with no selectors of its own records every management event (reads of secrets included); a
    basic selector's "arn:aws:dynamodb" records every table; one whose management events are write-only records
    no reads."""
    secret = boto3.client("secretsmanager", region_name="eu-west-1").create_secret(
        Name="acme/key", SecretString="never read", Tags=CONFIDENTIAL)["ARN"]
    table = boto3.client("dynamodb", region_name="eu-west-1").create_table(
        TableName="acme-carts", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        Tags=CONFIDENTIAL)["TableDescription"]["TableArn"]
    _trail("writes", basic=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
                             "DataResources": [{"Type": "AWS::DynamoDB::Table", "Values": ["arn:aws:dynamodb"]}]}])
    code, report = _audit(tmp_path)
    assert results(report, "failed", CHECK) == {("CKV_DH_104", secret), ("CKV_DH_104", table)}  # writes only
    details = {r["resource"]: r["details"][0] for r in report["results"]["failed_checks"] if r["check_id"] in CHECK}
    assert "read_write_type = WriteOnly" in details[secret] and "read_write_type = WriteOnly" in details[table]
    _trail("everything")  # no selectors: AWS records all management events
    code, report = _audit(tmp_path)
    assert results(report, "failed", CHECK) == {("CKV_DH_104", table)}
    assert ("CKV_DH_104", secret) in results(report, "passed", CHECK)
    _trail("tables", basic=[{"ReadWriteType": "All", "IncludeManagementEvents": False,
                             "DataResources": [{"Type": "AWS::DynamoDB::Table", "Values": ["arn:aws:dynamodb"]}]}])
    code, report = _audit(tmp_path)
    assert code == 0 and report["unverified"] == []
    assert results(report, "passed", CHECK) >= {("CKV_DH_104", secret), ("CKV_DH_104", table)}


def test_database_audit_logs_exports_and_groups(tmp_path):
    """RDS: the engine's audit log export and the group that fills it. A custom group is read (what its owner
    set); a default group never turns an audit on."""
    rds = boto3.client("rds", region_name="eu-west-1")
    rds.create_db_parameter_group(DBParameterGroupName="pgaudit", DBParameterGroupFamily="postgres16",
                                  Description="pgaudit")
    rds.modify_db_parameter_group(DBParameterGroupName="pgaudit", Parameters=[
        {"ParameterName": "shared_preload_libraries", "ParameterValue": "pg_stat_statements,pgaudit",
         "ApplyMethod": "pending-reboot"},
        {"ParameterName": "pgaudit.log", "ParameterValue": "read,write", "ApplyMethod": "immediate"}])
    rds.create_option_group(OptionGroupName="mysql-audit", EngineName="mysql", MajorEngineVersion="8.0",
                            OptionGroupDescription="audit")
    rds.modify_option_group(OptionGroupName="mysql-audit", OptionsToInclude=[{"OptionName": "MARIADB_AUDIT_PLUGIN"}],
                            ApplyImmediately=True)

    def instance(name: str, engine: str, exports: list[str], **extra) -> str:
        return rds.create_db_instance(
            DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine=engine, MasterUsername="app",
            MasterUserPassword="not-a-real-one", AllocatedStorage=20, Tags=CONFIDENTIAL,
            EnableCloudwatchLogsExports=exports, **extra)["DBInstance"]["DBInstanceArn"]

    audited_pg = instance("pg-audited", "postgres", ["postgresql"], DBParameterGroupName="pgaudit")
    default_pg = instance("pg-default", "postgres", ["postgresql"])  # violation: the default group loads no pgaudit
    audited_mysql = instance("mysql-audited", "mysql", ["audit", "error"], OptionGroupName="mysql-audit")
    unexported = instance("mysql-unexported", "mysql", ["error"], OptionGroupName="mysql-audit")  # violation
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", CHECK) == {("CKV_DH_104", default_pg), ("CKV_DH_104", unexported)}
    assert results(report, "passed", CHECK) >= {("CKV_DH_104", audited_pg), ("CKV_DH_104", audited_mysql)}
    details = {r["resource"]: r["details"][0] for r in report["results"]["failed_checks"] if r["check_id"] in CHECK}
    assert "parameter_group_name is not set: the default parameter group does not load pgaudit" in details[default_pg]
    assert 'has no "audit"' in details[unexported]


def test_cluster_audit_logs_by_cluster_parameter_group(tmp_path):
    rds = boto3.client("rds", region_name="eu-west-1")
    for name, family, parameter, value in (("aurora-audit", "aurora-mysql8.0", "server_audit_logging", "1"),
                                           ("neptune-audit", "neptune1.3", "neptune_enable_audit_log", "1")):
        rds.create_db_cluster_parameter_group(DBClusterParameterGroupName=name, DBParameterGroupFamily=family,
                                              Description="audit")
        rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=name, Parameters=[
            {"ParameterName": parameter, "ParameterValue": value, "ApplyMethod": "immediate"}])

    def cluster(name: str, engine: str, **extra) -> str:
        return rds.create_db_cluster(DBClusterIdentifier=name, Engine=engine, MasterUsername="app",
                                     MasterUserPassword="not-a-real-one", Tags=CONFIDENTIAL,
                                     EnableCloudwatchLogsExports=["audit"], **extra)["DBCluster"]["DBClusterArn"]

    audited = cluster("orders", "aurora-mysql", DBClusterParameterGroupName="aurora-audit")
    defaulted = cluster("carts", "aurora-mysql")  # violation: the default group sets server_audit_logging = 0
    graph = cluster("profiles", "neptune", DBClusterParameterGroupName="neptune-audit")  # aws_neptune_cluster
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", CHECK) == {("CKV_DH_104", defaulted)}
    assert results(report, "passed", CHECK) >= {("CKV_DH_104", audited), ("CKV_DH_104", graph)}


def test_a_database_activity_stream_audits_a_cluster():
    """moto has no database activity streams: DescribeDBClusters is stubbed (botocore Stubber) with a running one."""
    from botocore.stub import Stubber

    from data_handling.model.live.api import Caller, CallLog
    from data_handling.model.live.estate import _link
    from data_handling.model.live.readers import rds
    from data_handling.policy.loader import load
    from data_handling.rules.evaluation import evaluate_model
    from data_handling.rules.registry import RULES

    client = boto3.client("rds", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    streamed, silent = (f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:{name}" for name in ("streamed", "silent"))
    with Stubber(client) as stub:
        stub.add_response("describe_db_instances", {"DBInstances": []}, {})
        stub.add_response("describe_db_clusters", {"DBClusters": [
            {"DBClusterIdentifier": name, "DBClusterArn": arn, "Engine": "aurora-postgresql", "TagList": CONFIDENTIAL,
             "DBClusterParameterGroup": "default.aurora-postgresql16", **extra}
            for name, arn, extra in (("streamed", streamed, {"ActivityStreamStatus": "started",
                                                              "ActivityStreamMode": "async"}),
                                     ("silent", silent, {"ActivityStreamStatus": "stopped"}))]}, {})
        stub.add_response("describe_global_clusters", {"GlobalClusters": []}, {})
        read = rds(Caller(client, ACCOUNT, "eu-west-1", CallLog()))  # default groups: nothing more to read
    infra = _link(read, [ACCOUNT], ["eu-west-1"])
    evaluations = evaluate_model(infra, load(POLICY_MAP).policy, RULES)
    outcomes = {(e.check_id, e.resource.address): e.result for e in evaluations if e.check_id in CHECK}
    assert outcomes == {("CKV_DH_104", streamed): "PASSED", ("CKV_DH_104", silent): "FAILED"}


def test_a_parameter_group_that_cannot_be_read_fails_closed():
    """A custom group the audit may not read leaves the database's group attribute unknown: the check fails,
    naming the call, instead of passing as "a group outside the configuration" (botocore Stubber)."""
    from botocore.stub import Stubber

    from data_handling.model.live.api import Caller, CallLog
    from data_handling.model.live.estate import _link
    from data_handling.model.live.readers import rds
    from data_handling.policy.loader import load
    from data_handling.rules.evaluation import evaluate_model
    from data_handling.rules.registry import RULES

    client = boto3.client("rds", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    arn = f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:billing"
    log = CallLog()
    with Stubber(client) as stub:
        stub.add_response("describe_db_instances", {"DBInstances": [{
            "DBInstanceIdentifier": "billing", "DBInstanceArn": arn, "Engine": "postgres", "TagList": CONFIDENTIAL,
            "EnabledCloudwatchLogsExports": ["postgresql"],
            "DBParameterGroups": [{"DBParameterGroupName": "pgaudit"}],
            "OptionGroupMemberships": [{"OptionGroupName": "default:postgres-16"}]}]}, {})
        stub.add_client_error("describe_db_parameters", "AccessDenied", "not authorized", 403,
                              expected_params={"DBParameterGroupName": "pgaudit", "Source": "user"})
        stub.add_response("describe_db_clusters", {"DBClusters": []}, {})
        stub.add_response("describe_global_clusters", {"GlobalClusters": []}, {})
        read = rds(Caller(client, ACCOUNT, "eu-west-1", log))
    [gap] = log.gaps
    assert gap.permission == "rds:DescribeDBParameters" and gap.resource_types == ("aws_db_parameter_group",)
    infra = _link(read, [ACCOUNT], ["eu-west-1"])
    [evaluation] = [e for e in evaluate_model(infra, load(POLICY_MAP).policy, RULES) if e.check_id in CHECK]
    assert evaluation.result == "FAILED" and "rds:DescribeDBParameters" in evaluation.details[0]


def test_redshift_audit_logging_and_user_activity(tmp_path):
    """moto has no ModifyClusterParameterGroup and answers DescribeClusterParameters with the defaults whatever
    the group holds: the group's user-set parameters are answered through tests/moto_lacks.py."""
    redshift = boto3.client("redshift", region_name="eu-west-1")
    redshift.create_cluster_parameter_group(ParameterGroupName="activity", ParameterGroupFamily="redshift-1.0",
                                            Description="user activity")
    moto_lacks.answers[("redshift", "DescribeClusterParameters")] = lambda params: {"Parameters": [
        {"ParameterName": "enable_user_activity_logging", "ParameterValue": "true", "Source": "user"}]
        if params["ParameterGroupName"] == "activity" and params.get("Source") == "user" else []}

    def cluster(name: str, **extra) -> str:
        redshift.create_cluster(ClusterIdentifier=name, NodeType="ra3.xlplus", MasterUsername="app",
                                MasterUserPassword="NotARealOne1", Tags=CONFIDENTIAL, **extra)
        return f"arn:aws:redshift:eu-west-1:{ACCOUNT}:cluster:{name}"

    logged = cluster("warehouse", ClusterParameterGroupName="activity")
    unlogged = cluster("scratch", ClusterParameterGroupName="activity")  # violation: audit logging is off
    _bucket("redshift-audit", "eu-west-1", INTERNAL)
    redshift.enable_logging(ClusterIdentifier="warehouse", BucketName="redshift-audit")
    code, report = _audit(tmp_path)
    assert code == 1 and report["unverified"] == []
    assert results(report, "failed", CHECK) == {("CKV_DH_104", unlogged)}
    assert ("CKV_DH_104", logged) in results(report, "passed", CHECK)


# --- fail closed ---------------------------------------------------------------------------------------------

def _denied(*actions: str) -> dict[str, str]:
    return auditor(actions)


def test_denied_event_selectors_fail_closed(enforced, tmp_path):  # noqa: F811
    covered = _bucket("acme-by-trail", "eu-west-1", CONFIDENTIAL)
    trail = _trail("objects", advanced=_objects_of("acme-by-trail"))
    enforced(_denied("cloudtrail:GetEventSelectors"))
    code, report = _audit(tmp_path)
    assert code == 2
    [gap] = [item for item in report["unverified"] if "GetEventSelectors" in item["reason"]]
    assert gap["scope"] == trail and "grant cloudtrail:GetEventSelectors" in gap["reason"]
    assert "CKV_DH_104" in gap["checks"] and "CKV_DH_100" not in gap["checks"]
    assert results(report, "failed", CHECK) == {("CKV_DH_104", covered)}  # never a pass on what was not read
    [finding] = [r for r in report["results"]["failed_checks"] if r["check_id"] == "CKV_DH_104"]
    assert "cloudtrail:GetEventSelectors" in finding["details"][0]


def test_denied_trail_status_and_bucket_logging_fail_closed(enforced, tmp_path):  # noqa: F811
    by_trail = _bucket("acme-by-trail", "eu-west-1", CONFIDENTIAL)
    by_logs = _bucket("acme-by-logs", "eu-west-1", CONFIDENTIAL)
    _bucket("acme-access-logs", "eu-west-1", INTERNAL)
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.put_bucket_acl(Bucket="acme-access-logs", ACL="log-delivery-write")
    s3.put_bucket_logging(Bucket="acme-by-logs", BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": "acme-access-logs", "TargetPrefix": "acme-by-logs/"}})
    _trail("objects", advanced=_objects_of("acme-by-trail"))
    enforced(_denied("cloudtrail:GetTrailStatus", "s3:GetBucketLogging"))
    code, report = _audit(tmp_path)
    assert code == 2
    [logging] = [item for item in report["unverified"] if item["scope"] == by_logs and "GetBucketLogging" in
                 item["reason"]]  # (moto checks GetPublicAccessBlock as s3:ListBucket, denied too: a gap of its own)
    assert "grant s3:GetBucketLogging" in logging["reason"] and "CKV_DH_104" in logging["checks"]
    assert results(report, "failed", CHECK) == {("CKV_DH_104", by_trail), ("CKV_DH_104", by_logs)}
    details = {r["resource"]: r["details"][0] for r in report["results"]["failed_checks"] if r["check_id"] in CHECK}
    assert "cloudtrail:GetTrailStatus" in details[by_trail] and "s3:GetBucketLogging" in details[by_logs]


def test_denied_trail_listing_is_not_verified(enforced, tmp_path):  # noqa: F811
    bucket = _bucket("acme-by-trail", "eu-west-1", CONFIDENTIAL)
    _trail("objects", advanced=_objects_of("acme-by-trail"))
    enforced(_denied("cloudtrail:DescribeTrails"))
    code, report = _audit(tmp_path)
    assert code == 2
    [gap] = [item for item in report["unverified"] if "DescribeTrails" in item["reason"]]
    assert gap["scope"] == f"account {ACCOUNT}, eu-west-1, cloudtrail" and "CKV_DH_104" in gap["checks"]
    assert results(report, "failed", CHECK) == {("CKV_DH_104", bucket)}
