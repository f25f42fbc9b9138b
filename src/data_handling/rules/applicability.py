"""Which resource types each rule can judge: the types for which it can return an Outcome at all.

The checkov adapter registers each check for these types only (checkov then finds a resource's checks with one
dict lookup), instead of every `aws_*` resource. A type left out is a silent pass, so each entry is derived from
the table the rule itself dispatches on (and tests/test_applicability.py checks every rule against every fixture
and the sources of the dispatch tables). A rule that can apply to any resource (a field-declaration tag) keeps
`aws_*`, and so does every rule when the policy map cannot be loaded: each check then fails closed with the map's
error on every resource, as before.
"""

from __future__ import annotations

import fnmatch

from data_handling.model.kms_keys import KEY_TYPES
from data_handling.model.telemetry_sinks import _SINKS as TELEMETRY_SINK_TYPES
from data_handling.model.training_inputs import TRAINERS as TRAINING_TYPES
from data_handling.policy.schema import PolicyMap
from data_handling.rules.copy_mechanisms import BY_TYPE as COPY_MECHANISM_TYPES
from data_handling.rules.public_access import BY_TYPE as PUBLIC_ACCESS_TYPES
from data_handling.rules.sharing_mechanisms import BY_TYPE as SHARING_MECHANISM_TYPES

ANY_AWS = ("aws_*",)
# The checks have always been registered for aws_* alone: a type outside it (a custom store type of another
# provider) was never checked, so it is not added here either (the findings stay what they were).
_SCOPE = ANY_AWS[0]

# The resource types model.raw_logs.raw_flow_of dispatches on (a test reads them from its source).
RAW_LOG_TYPES = (
    "aws_flow_log", "aws_lb", "aws_alb", "aws_elb", "aws_cloudfront_distribution", "aws_s3_bucket_logging",
    "aws_s3_bucket", "aws_cloudtrail", "aws_wafv2_web_acl_logging_configuration",
    "aws_route53_resolver_query_log_config", "aws_cloudwatch_log_subscription_filter", "aws_oam_link",
    "aws_api_gateway_stage", "aws_apigatewayv2_stage", "aws_cloudwatch_log_delivery",
)


def applicable_types(check_id: str, policy: PolicyMap | None) -> tuple[str, ...]:
    """The resource types (or `aws_*`) the rule of `check_id` can return an outcome for under `policy`; `aws_*`
    for every check when `policy` is None (the map could not be loaded: every resource must fail closed)."""
    if policy is None:
        return ANY_AWS
    # `resource.type not in store_types` -> None
    if check_id in ("CKV_DH_100", "CKV_DH_101", "CKV_DH_104", "CKV_DH_201"):
        types: tuple[str, ...] = tuple(policy.classification.store_types)
    elif check_id == "CKV_DH_202":  # `resource.type not in vaults.resource_types` -> None
        types = tuple(policy.vaults.resource_types)
    elif check_id == "CKV_DH_204":  # `resource.type not in KEY_TYPES` -> None
        types = KEY_TYPES
    elif check_id == "CKV_DH_103":  # public_access.BY_TYPE.get(resource.type) is None -> None
        types = tuple(PUBLIC_ACCESS_TYPES)
    elif check_id == "CKV_DH_102":  # copies_made_by: None for a type no copy mechanism covers
        types = tuple(COPY_MECHANISM_TYPES)
    elif check_id == "CKV_DH_105":  # shares_made_by: None for a type no sharing mechanism covers
        types = tuple(SHARING_MECHANISM_TYPES)
    elif check_id in ("CKV_DH_301", "CKV_DH_302"):  # sink_of: None for a type with no sink reader
        types = tuple(TELEMETRY_SINK_TYPES)
    elif check_id == "CKV_DH_303":  # raw_flow_of: None for a type it does not dispatch on
        types = RAW_LOG_TYPES
    elif check_id == "CKV_DH_106":  # training_sources: None for a type TRAINERS does not list
        types = tuple(TRAINING_TYPES)
    else:  # CKV_DH_203 reads the field-declaration tag of any resource; an unknown check: everything
        return ANY_AWS
    return tuple(sorted({t for t in types if fnmatch.fnmatchcase(t, _SCOPE)}))


# Types a rule reads about the stores it judges without judging them itself (CKV_DH_104: the trails, logging
# configurations and parameter groups model/audit_logging.py follows from a store). The live audit names the
# check as not verified when a call that reads one of them fails.
EVIDENCE_TYPES: dict[str, tuple[str, ...]] = {
    "CKV_DH_104": ("aws_cloudtrail", "aws_s3_bucket_logging", "aws_redshift_logging", "aws_rds_cluster_activity_stream",
                   "aws_db_parameter_group", "aws_db_option_group", "aws_rds_cluster_parameter_group",
                   "aws_docdb_cluster_parameter_group", "aws_neptune_cluster_parameter_group",
                   "aws_redshift_parameter_group"),
}


def reads_evidence(check_id: str, resource_type: str) -> bool:
    """Whether the rule of `check_id` reads resources of `resource_type` as evidence about the stores it judges."""
    return resource_type in EVIDENCE_TYPES.get(check_id, ())


def applies_to(declared: tuple[str, ...], resource_type: str) -> bool:
    """Whether checkov hands a resource of `resource_type` to a check registered for `declared`."""
    return any(fnmatch.fnmatchcase(resource_type, pattern) for pattern in declared)
