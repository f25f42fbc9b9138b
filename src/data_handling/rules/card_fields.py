"""CKV_DH_203 — What we never do: "Store full card numbers (PAN). Stripe holds the cards; we hold a tokenised
handle." and the classification table's "PAN, CVV (not stored)".

No store declares a field for a full card number or a card verification value: Glue table columns and partition
keys, DynamoDB attributes and keys, Timestream and Keyspaces schemas, the Glue table a Firehose converts records
to, and the field-declaration tag (fields.tag_key). Names are normalised (case, separators, camelCase) and matched
against card_data.forbidden_fields, unless they match card_data.tokenised_fields (card_token, last4).
"""

from __future__ import annotations

from data_handling.model.fields import first_match
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.schema_fields import declared_by
from data_handling.policy.schema import CardData, PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail


def card_data_reason(name: str, card_data: CardData) -> str | None:
    """Why a field name is card data (the matching pattern's reason), or None for other names and tokens."""
    if first_match(name, card_data.tokenised_fields):
        return None
    for entry in card_data.forbidden_fields:
        if first_match(name, [entry.pattern]):
            return entry.reason
    return None


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    declared = declared_by(resource, infra, policy.fields.tag_key)
    if not declared.declares:
        return None
    places: dict[tuple[str, str], list[str]] = {}  # (name, reason) -> where it is declared
    for field in declared.fields:
        reason = card_data_reason(field.name, policy.card_data)
        if reason:
            places.setdefault((field.name, reason), []).append(field.where)
    findings = [f'"{name}" ({", ".join(dict.fromkeys(wheres))}): {reason}' for (name, reason), wheres in places.items()]
    if findings:
        unread = f" Besides, {'; '.join(declared.problems)}." if declared.problems else ""
        return fail(f"{resource.describe()} declares card data fields: " + "; ".join(findings) + "." + unread)
    if declared.problems:
        return fail(f"{resource.describe()} declares fields that could not all be read, so card data cannot be ruled "
                    "out: " + "; ".join(declared.problems) + ". Declare the fields statically, give the variables "
                    "behind them a value (terraform.tfvars), or scan the plan.")
    return PASS
