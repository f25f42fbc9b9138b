"""The AWS calls the live reader makes: clients with botocore's retries, pagination, a log of every call, and
the calls that were denied or failed (the gaps), with the IAM action each one needs.

Only read calls are made (List*, Describe*, Get* of configuration): never object contents or secret values.
docs/audit-iam-policy.json grants exactly the actions in PERMISSIONS, and a test compares the two.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

# The IAM action each API operation needs, where it is not "<service>:<Operation>".
_ACTION_NAMES = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    ("efs", "DescribeFileSystems"): "elasticfilesystem:DescribeFileSystems",
    # IAM names the action in the singular
    ("efs", "DescribeReplicationConfigurations"): "elasticfilesystem:DescribeReplicationConfiguration",
    ("s3control", "ListMultiRegionAccessPoints"): "s3:ListMultiRegionAccessPoints",
    # CKV_DH_103/105: the bucket's and the account's Block Public Access settings
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}
# Every operation the reader calls: (botocore service name, operation name).
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("sts", "GetCallerIdentity"),
    ("ec2", "DescribeRegions"),
    ("s3", "ListBuckets"),
    ("s3", "GetBucketLocation"),
    ("s3", "GetBucketTagging"),
    ("s3", "GetBucketReplication"),
    ("dynamodb", "ListTables"),
    ("dynamodb", "DescribeTable"),
    ("dynamodb", "ListTagsOfResource"),
    ("secretsmanager", "ListSecrets"),
    ("secretsmanager", "DescribeSecret"),
    ("kms", "ListKeys"),
    ("kms", "DescribeKey"),
    ("kms", "GetKeyRotationStatus"),
    ("kms", "GetKeyPolicy"),
    ("kms", "ListAliases"),
    ("kms", "ListResourceTags"),
    ("rds", "DescribeDBInstances"),
    ("rds", "DescribeDBClusters"),
    ("rds", "DescribeGlobalClusters"),
    ("efs", "DescribeFileSystems"),
    ("efs", "DescribeReplicationConfigurations"),
    ("s3control", "ListMultiRegionAccessPoints"),
    ("backup", "ListBackupPlans"),
    ("backup", "GetBackupPlan"),
    ("backup", "ListBackupSelections"),
    ("backup", "GetBackupSelection"),
    ("redshift", "DescribeClusters"),
    ("dlm", "GetLifecyclePolicies"),
    ("dlm", "GetLifecyclePolicy"),
    ("elasticache", "DescribeReplicationGroups"),
    ("elasticache", "DescribeGlobalReplicationGroups"),
    ("elasticache", "ListTagsForResource"),
    ("memorydb", "DescribeClusters"),
    ("memorydb", "DescribeMultiRegionClusters"),
    ("memorydb", "ListTags"),
    ("logs", "DescribeLogGroups"),
    ("logs", "ListTagsForResource"),
    ("logs", "DescribeSubscriptionFilters"),
    ("logs", "GetDataProtectionPolicy"),
    ("ec2", "DescribeFlowLogs"),
    ("firehose", "ListDeliveryStreams"),
    ("firehose", "DescribeDeliveryStream"),
    ("firehose", "ListTagsForDeliveryStream"),
    ("glue", "GetDatabases"),
    ("glue", "GetTables"),
    ("glue", "GetTags"),
    ("ssm", "DescribeParameters"),
    ("ssm", "ListTagsForResource"),
    # CKV_DH_103/105: who can read or receive the data (resource policies, ACLs, public access, grants, shares)
    ("s3", "GetBucketPolicy"),
    ("s3", "GetBucketAcl"),
    ("s3", "GetPublicAccessBlock"),
    ("s3control", "GetPublicAccessBlock"),
    ("kms", "ListGrants"),
    ("secretsmanager", "GetResourcePolicy"),
    ("dynamodb", "GetResourcePolicy"),
    ("rds", "DescribeDBSnapshots"),
    ("rds", "DescribeDBSnapshotAttributes"),
    ("rds", "DescribeDBClusterSnapshots"),
    ("rds", "DescribeDBClusterSnapshotAttributes"),
    ("glue", "GetResourcePolicy"),
    # CKV_DH_104: data-access logging (CloudTrail, S3 server access logs, database audit logs)
    ("cloudtrail", "DescribeTrails"),
    ("cloudtrail", "GetTrailStatus"),
    ("cloudtrail", "GetEventSelectors"),
    ("s3", "GetBucketLogging"),
    ("rds", "DescribeDBParameters"),
    ("rds", "DescribeDBClusterParameters"),
    ("rds", "DescribeOptionGroups"),
    ("redshift", "DescribeLoggingStatus"),
    ("redshift", "DescribeClusterParameters"),
    # CKV_DH_106: model training and the data it reads
    ("bedrock", "ListModelCustomizationJobs"),
    ("bedrock", "GetModelCustomizationJob"),
    ("bedrock", "ListCustomModels"),
    ("bedrock", "GetCustomModel"),
    ("comprehend", "ListDocumentClassifiers"),
    ("comprehend", "ListEntityRecognizers"),
    ("transcribe", "ListLanguageModels"),
    ("sagemaker", "ListTrainingJobs"),
    ("sagemaker", "DescribeTrainingJob"),
    ("glue", "GetMLTransforms"),
)
_XML_CODE = re.compile(r"<Code>([^<]{1,200})</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]{1,2000})</Message>")
# Error codes that mean "not allowed", as opposed to "failed".
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
           "InvalidClientTokenId", "AuthorizationError", "NotAuthorized", "AccessDeniedFault"}


def permission(service: str, operation: str) -> str:
    """The IAM action an operation needs."""
    return _ACTION_NAMES.get((service, operation), f"{service}:{operation}")


PERMISSIONS: tuple[str, ...] = tuple(sorted({permission(service, operation) for service, operation in OPERATIONS}))


def client_config(max_attempts: int = 10) -> Config:
    """Throttling and transient errors are retried with botocore's adaptive mode (client-side rate limiting on
    top of the standard mode's backoff), so a large account is read at the rate AWS allows. AWS_RETRY_MODE and
    AWS_MAX_ATTEMPTS, the standard settings, win when set."""
    retries: dict[str, Any] = {}
    if not os.environ.get("AWS_RETRY_MODE"):
        retries["mode"] = "adaptive"
    if not os.environ.get("AWS_MAX_ATTEMPTS"):
        retries["max_attempts"] = max_attempts
    return Config(retries=retries, connect_timeout=10, read_timeout=30,  # type: ignore[arg-type]
                  max_pool_connections=20)


@dataclass(frozen=True)
class Gap:
    """A call that was denied or failed: what it would have read could not be verified."""

    account: str
    region: str  # "" for a call not bound to a region
    service: str
    operation: str
    error: str  # the error code and message
    denied: bool
    resource: str = ""  # the ARN the call was about; "" for a listing (everything it lists is unseen)
    resource_types: tuple[str, ...] = ()  # the Terraform types of the records it would have produced

    @property
    def permission(self) -> str:
        return permission(self.service, self.operation)

    def describe(self) -> str:
        where = f"account {self.account}" + (f", {self.region}" if self.region else "")
        about = f" for {self.resource}" if self.resource else ""
        why = f"was denied ({self.error}): grant {self.permission}" if self.denied else f"failed ({self.error})"
        return f"{self.service}:{self.operation}{about} in {where} {why}"


class CallLog:
    """Every operation the reader called (for the IAM policy test and the call count), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []
        self.gaps: list[Gap] = []

    def record_call(self, service: str, operation: str) -> None:
        with self._lock:
            self.calls.append((service, operation))

    def record_gap(self, gap: Gap) -> None:
        with self._lock:
            self.gaps.append(gap)

    def hook(self, model: Any, **_: Any) -> None:
        """botocore's before-call event: one entry per HTTP request botocore is about to make (retries included
        as separate attempts are not: before-call fires once per API call)."""
        self.record_call(model.service_model.service_name, model.name)


class CallFailed(Exception):
    """A call that could not be made: the gap is recorded; the caller leaves what it would have read unknown."""

    def __init__(self, gap: Gap):
        super().__init__(gap.describe())
        self.gap = gap


def _gap(error: Exception, account: str, region: str, service: str, operation: str, resource: str,
         resource_types: tuple[str, ...]) -> Gap:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code, message = str(info.get("Code", "Unknown")), str(info.get("Message", ""))
        # An error body in another protocol than the service's (an XML ErrorResponse to a JSON API, as proxies
        # and emulators send) reaches us as the HTTP status and the raw body: read the code and message from it.
        inner = _XML_CODE.search(message)
        if code.isdigit() and inner:
            code, message = inner.group(1), (_XML_MESSAGE.search(message) or inner).group(1)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        text = f"{code}: {message}".strip().rstrip(":")
        return Gap(account, region, service, operation, text, code in _DENIED or status == 403, resource,
                   resource_types)
    return Gap(account, region, service, operation, f"{type(error).__name__}: {error}", False, resource,
               resource_types)


class Caller:
    """Calls on one client (one account, region and service), recording the gaps in the log."""

    def __init__(self, client: Any, account: str, region: str, log: CallLog, listed: bool = True,
                 regions: frozenset[str] = frozenset()):
        self.client = client
        self.account = account
        self.region = region
        self.log = log
        self.service = client.meta.service_model.service_name
        self.listed = listed  # botocore's endpoint data offers the service in this region (estate.offered)
        self.regions = regions or frozenset({region})  # every region audited in this account

    def _not_offered(self, error: Exception) -> bool:
        """A service botocore does not offer in this (known) region, whose endpoint cannot be reached: it is not
        offered there and holds nothing, which is not a gap (Bedrock and Comprehend exist in a third of the
        regions). A region botocore does not know, or one where it offers the service, fails as any other."""
        return not self.listed and isinstance(error, EndpointConnectionError)

    def call(self, operation: str, method: str, *, resource: str = "", resource_types: tuple[str, ...] = (),
             absent: tuple[str, ...] = (), **params: Any) -> dict[str, Any] | None:
        """The response, or None when the error code is one of `absent` (AWS's way of saying "not configured":
        NoSuchTagSet, ReplicationConfigurationNotFoundError); any other error is a gap (CallFailed)."""
        try:
            return getattr(self.client, method)(**params)  # type: ignore[no-any-return]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in absent:
                return None
            gap = _gap(error, self.account, self.region, self.service, operation, resource, resource_types)
            self.log.record_gap(gap)
            raise CallFailed(gap) from None
        except Exception as error:  # any failure (a transport error, a reply botocore cannot parse) is a gap
            if self._not_offered(error):
                return None
            gap = _gap(error, self.account, self.region, self.service, operation, resource, resource_types)
            self.log.record_gap(gap)
            raise CallFailed(gap) from None

    def pages(self, operation: str, method: str, key: str, *, resource: str = "",
              resource_types: tuple[str, ...] = (), **params: Any) -> list[dict[str, Any]]:
        """Every item of a paginated listing (botocore's paginator), or CallFailed: a listing is read whole or
        not at all, so a page that fails never leaves a partial list that looks complete."""
        items: list[dict[str, Any]] = []
        try:
            if not self.client.can_paginate(method):  # an older botocore (ListBuckets gained pagination in 2024)
                return list(getattr(self.client, method)(**params).get(key) or [])
            for page in self.client.get_paginator(method).paginate(**params):
                items += page.get(key) or []
        except Exception as error:  # fail closed: whatever went wrong, the listing is not known
            if self._not_offered(error):
                return []
            gap = _gap(error, self.account, self.region, self.service, operation, resource, resource_types)
            self.log.record_gap(gap)
            raise CallFailed(gap) from None
        return items
