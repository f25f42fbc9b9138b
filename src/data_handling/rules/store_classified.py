"""CKV_DH_100 — Classification: "Every piece of data we handle falls into one of four buckets".

Every data store (classification.store_types) resolves to exactly one valid class: some source declares
one (its tags, its provider's default_tags, a policy-map rule) or the map sets a default, and no source
declares a value that is not a class.
"""

from __future__ import annotations

from data_handling.model.classification import classify
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    if resource.type not in policy.classification.store_types:
        return None
    classification = classify(resource, infra, policy)
    if classification.problems:
        return fail(f"{resource.address} has no valid data class: " + "; ".join(classification.problems) + ".")
    if classification.effective is None:
        keys = ", ".join(policy.classification.tag_keys)
        return fail(f"{resource.address} declares no data class: no tag {keys} on the resource or in its "
                    "provider's default_tags, no classification rule matches it, and the policy map sets no "
                    "classification.default.")
    return PASS
