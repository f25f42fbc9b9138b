"""CKV_DH_202 — Classification table, Restricted storage: "Vault, KMS-encrypted".

A Restricted vault (a vaults.resource_types resource whose class is restricted) is encrypted with a
customer-managed KMS key: the key is set (not the AWS-managed default), is not an alias/aws/* key, and, when it
is defined in the configuration, has enable_key_rotation = true and is not multi-region. Secrets Manager replica
blocks follow the same rule. A key outside the configuration (a literal ARN, alias or key ID) passes when it is
not AWS-managed, with a note that its rotation could not be verified.
"""

from __future__ import annotations

from typing import Any

from data_handling.model.infrastructure import Infrastructure
from data_handling.model.kms_keys import DEFAULT_KEYS, KeySetting, KeyTarget, key_settings, resolve
from data_handling.model.records import Resource
from data_handling.model.values import as_text, is_unrendered
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail
from data_handling.rules.restricted import restricted_because


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    if resource.type not in policy.vaults.resource_types:
        return None
    data_class = restricted_because(resource, infra, policy)
    if data_class is None:
        return None
    subject = f"{resource.describe()} is {data_class}"
    if resource.type == "aws_ssm_parameter":
        parameter_type = as_text(resource.get("type"))
        if parameter_type is None or is_unrendered(parameter_type):
            return fail(f"{subject}, but its type ({resource.get('type')!r}) could not be evaluated, so whether it is "
                        "KMS-encrypted is unknown.")
        if parameter_type != "SecureString":
            return fail(f'{subject} but has type = "{parameter_type}": only a SecureString parameter is encrypted '
                        "with a KMS key at all.")

    settings, problems = key_settings(resource)
    notes: list[str] = []
    for setting in settings:
        targets = resolve(resource, setting, infra)
        if not targets:
            default = DEFAULT_KEYS.get(resource.type, "an AWS-managed key")
            problems.append(f"{setting.attribute} is not set, so AWS encrypts it with the AWS-managed key {default}")
        for target in targets:
            problem, note = _judge(setting, target)
            problems += [problem] if problem else []
            notes += [note] if note else []
    if problems:
        return fail(f"{subject}: " + "; ".join(problems) + ".")
    if notes:
        return Outcome(passed=True, found=f"{subject}: " + "; ".join(notes) + ".")  # a pass with a caveat
    return PASS


def _judge(setting: KeySetting, target: KeyTarget) -> tuple[str, str]:
    """(problem, note) for one key a vault uses."""
    if target.kind == "unknown":
        return f"{target.text}{target.path}", ""
    if target.kind == "aws_managed":
        return f"{target.text} is an AWS-managed key (alias/aws/*), not a customer-managed one", ""
    if target.kind == "multi_region_id":
        return f"{target.text} is a multi-region key (its ID starts with mrk-)", ""
    if target.kind == "outside":
        return "", (f"{target.text} is a customer-managed key outside the scanned configuration: not AWS-managed, "
                    "but its rotation and multi-region settings could not be verified")
    key = target.key
    assert key is not None
    named = f"{setting.attribute} uses {key.describe()}{target.path}"
    if key.type in ("aws_kms_replica_key", "aws_kms_replica_external_key"):
        return f"{named}, a replica of a multi-region key", ""
    if key.type == "aws_kms_external_key":
        return f"{named}, which holds imported key material that KMS cannot rotate", ""
    found = [problem for problem in (_rotation(key.get("enable_key_rotation")),
                                     _single_region(key.get("multi_region"))) if problem]
    return (f"{named}, which has {' and '.join(found)}" if found else ""), ""


def _rotation(value: Any) -> str:
    if value is True or as_text(value) == "true":
        return ""
    if value is None:
        return "no enable_key_rotation (rotation is off by default)"
    if is_unrendered(value):
        return f"enable_key_rotation = {value!r}, which could not be evaluated"
    return f"enable_key_rotation = {_hcl(value)}"


def _single_region(value: Any) -> str:
    if value is None or value is False or as_text(value) == "false":
        return ""
    if is_unrendered(value):
        return f"multi_region = {value!r}, which could not be evaluated"
    return f"multi_region = {_hcl(value)} (replicas in other regions can decrypt the data)"


def _hcl(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return as_text(value) or repr(value)
