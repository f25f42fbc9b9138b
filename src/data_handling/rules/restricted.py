"""Shared by the CKV_DH_20x rules: whether a resource holds Restricted data, and which source says so."""

from __future__ import annotations

from data_handling.model.classification import classify
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.policy.schema import PolicyMap


def restricted_because(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> str | None:
    """'restricted (tag data_class = "restricted" in tags of ...)' when the resource's class is restricted."""
    classification = classify(resource, infra, policy)
    if classification.effective != "restricted":
        return None
    deciding = classification.deciding
    return f"restricted ({deciding.source})" if deciding else "restricted (classification.default)"


def restricted_vaults(infra: Infrastructure, policy: PolicyMap) -> list[Resource]:
    """Every resource of a vault type whose class is restricted."""
    vault_types = set(policy.vaults.resource_types)
    return [r for r in infra.resources if r.type in vault_types and restricted_because(r, infra, policy)]
