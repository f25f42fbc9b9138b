"""CKV_DH_201 — Classification table, Restricted storage: "Vault, KMS-encrypted".

A Restricted data store (classification.store_types) is one of the vault types (vaults.resource_types); an SSM
parameter holding Restricted data is a SecureString (a String or StringList parameter is stored in plain text).
"""

from __future__ import annotations

from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.values import as_text, is_unrendered
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail
from data_handling.rules.restricted import restricted_because


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    if resource.type not in policy.classification.store_types:
        return None
    data_class = restricted_because(resource, infra, policy)
    if data_class is None:
        return None
    vault_types = policy.vaults.resource_types
    if resource.type not in vault_types:
        return fail(f"{resource.describe()} is {data_class}, but {resource.type} is not a vault type; "
                    f"vaults.resource_types accepts {', '.join(vault_types)}.")
    if resource.type == "aws_ssm_parameter":
        parameter_type = as_text(resource.get("type"))
        if parameter_type is None or is_unrendered(parameter_type):
            return fail(f"{resource.describe()} is {data_class}, but its type ({resource.get('type')!r}) could not "
                        'be evaluated, so it may be stored in plain text; set type = "SecureString".')
        if parameter_type != "SecureString":
            return fail(f'{resource.describe()} is {data_class} but has type = "{parameter_type}", which SSM stores '
                        'unencrypted; only a SecureString parameter is a vault.')
    return PASS
