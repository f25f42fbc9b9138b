"""CKV_DH_104 — Classification table: Confidential access "Role-gated, audited"; Restricted access "Two-person
rule, logged".

Data access to every Confidential or Restricted store (classification.store_types) is logged by the mechanism
its service has (model/audit_logging.py): S3 server access logs or CloudTrail data events covering the bucket,
CloudTrail data events for DynamoDB and the other data-event stores, the database engine's audit log, CloudTrail
management events for stores read through API calls. An organisation trail outside the repository counts when
the policy map declares it (audit.organization_trail.data_events); a failure says which declaration would do.
A store type AWS records no data access for fails, saying so: the policy owner decides (a waiver), never the scan.
"""

from __future__ import annotations

from data_handling.model.audit_logging import AuditLogging, access_logging
from data_handling.model.classification import classify
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    if resource.type not in policy.classification.store_types:
        return None
    classification = classify(resource, infra, policy)
    if not classification.at_least("confidential"):
        return None
    logging = access_logging(resource, infra)
    if logging is None:
        return None
    holds = f"{resource.describe()} holds {classification.describe()} data"
    if logging.unknown_type:
        return fail(f"{holds}, and CKV_DH_104 does not know how data access to {resource.type} is logged (it is "
                    "listed in classification.store_types): log access by the service's own mechanism and waive "
                    "this finding in the policy map with the reason, or remove the type from store_types if it "
                    "holds no data.")
    if logging.no_mechanism:
        return fail(f"{holds}, but AWS records no data access to {logging.service}: {logging.no_mechanism}. Audit "
                    "access where it happens (the clients, the application) and record that decision as a waiver "
                    "in the policy map, or keep Confidential data in a store whose access is logged.")
    if logging.found:
        if logging.notes:
            return Outcome(passed=True, found=f"{'; '.join(logging.found)}; but {'; '.join(logging.notes)}.")
        return PASS
    declared = _declared(logging, policy)
    if declared:
        return PASS
    looked = "; or ".join(logging.looked_for)
    seen = f" What is there: {'; '.join(logging.near)}." if logging.near else ""
    advice = logging.store.how_to_know("give the values a default or a tfvars value, or scan the plan")
    unknown = f" Could not be evaluated: {'; '.join(logging.unresolved)} ({advice})." if logging.unresolved else ""
    return fail(f"{holds}, but no data-access logging of it was found. Looked for {looked}.{seen}{unknown}"
                f"{_declaration_hint(logging)}")


_FAMILY_NAMES = {"s3": "S3", "dynamodb": "DynamoDB", "sqs": "SQS", "sns": "SNS", "kinesis": "Kinesis",
                 "glue": "Glue", "lambda": "Lambda"}


def _declared(logging: AuditLogging, policy: PolicyMap) -> bool:
    trail = policy.audit.organization_trail
    if trail is None:
        return False
    if logging.management:
        return True  # an organisation trail records management events, reads included, in every member account
    return logging.family is not None and logging.family in trail.data_events


def _declaration_hint(logging: AuditLogging) -> str:
    if logging.management:
        return (" Or declare audit.organization_trail in the policy map if an organisation trail outside this "
                "repository records management events.")
    if logging.family:
        return (f" Or declare audit.organization_trail.data_events: [{logging.family}] if an organisation trail "
                f"logs {_FAMILY_NAMES.get(logging.family, logging.family)} data events.")
    return ""
