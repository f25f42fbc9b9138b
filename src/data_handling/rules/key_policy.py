"""CKV_DH_204 — Classification table, Restricted access: "Two-person rule, logged".

A KMS key that protects Restricted data (a Restricted vault uses it, directly or through an alias) has an
explicit key policy (its `policy` argument or an aws_kms_key_policy), in which no Allow statement has a wildcard
principal and no single Allow statement grants both key administration and decryption to a principal other than
the account root (which only delegates to IAM policies).
"""

from __future__ import annotations

from data_handling.model.iam_policy import PolicyDocument, Statement, policy_of
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.kms_keys import KEY_TYPES, keys_of
from data_handling.model.records import Resource
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail
from data_handling.rules.restricted import restricted_vaults

# Key administration: the operations that change who may use the key, or destroy or disable it.
ADMIN_ACTIONS = (
    "kms:PutKeyPolicy", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion", "kms:EnableKey", "kms:DisableKey", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:ImportKeyMaterial", "kms:DeleteImportedKeyMaterial",
    "kms:ReplicateKey", "kms:TagResource", "kms:UntagResource", "kms:RotateKeyOnDemand",
)
# Decryption: the operations that yield plaintext of data protected by the key.
DECRYPT_ACTIONS = (
    "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPairWithoutPlaintext",
)


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    if resource.type not in KEY_TYPES:
        return None
    users = _protected_keys(infra, policy).get(id(resource))
    if not users:
        return None
    protects = ", ".join(sorted({f"{vault.address} ({how})" for vault, how in users}))
    subject = f"{resource.describe()} protects Restricted data in {protects}"
    documents = _key_policies(resource, infra)
    if not documents:
        return fail(f"{subject} but has no explicit key policy (no policy argument and no aws_kms_key_policy), so "
                    "the default key policy applies: the account root gets kms:* and any IAM policy in the account "
                    "can grant both administration and decryption.")
    findings = [finding for document in documents for statement in document.statements
                if (finding := statement_finding(statement))]
    unread = [problem for document in documents for problem in document.problems]
    if findings:
        besides = f" Besides, {'; '.join(unread)}." if unread else ""
        return fail(f"{subject}; its key policy breaks the two-person rule: {'; '.join(findings)}.{besides}")
    if unread:
        return fail(f"{subject}, but its key policy could not be verified: {'; '.join(unread)}. Write the policy with "
                    "jsonencode, a JSON heredoc or an aws_iam_policy_document whose values are known, or scan the "
                    "plan.")
    return PASS


def statement_finding(statement: Statement) -> str:
    """What breaks the two-person rule in one statement, or ""."""
    if not statement.allows:
        return ""
    if statement.wildcard_principal:
        who = f"NotPrincipal {[str(p) for p in statement.principals]} (everyone else)" if statement.not_principals \
            else "the wildcard principal *"
        return f"{statement.where} allows {_actions(statement)} to {who}"
    administration = _granted(statement, ADMIN_ACTIONS)
    decryption = _granted(statement, DECRYPT_ACTIONS)
    if not administration or not decryption:
        return ""
    principals = [str(p) for p in statement.principals if not p.is_account_root]
    if not principals:
        return ""  # the account root only delegates to IAM policies
    if statement.not_actions:
        return (f"{statement.where} grants everything but {list(statement.actions)}, key administration and "
                f"decryption included, to {', '.join(principals)}")
    return (f"{statement.where} grants key administration ({', '.join(administration)}) and decryption "
            f"({', '.join(decryption)}) to {', '.join(principals)}")


def _granted(statement: Statement, actions: tuple[str, ...]) -> list[str]:
    """The written action patterns of a statement that grant any of the actions."""
    found: list[str] = []
    for action in actions:
        for pattern in statement.patterns_granting(action):
            if pattern not in found:
                found.append(pattern)
    return found


def _actions(statement: Statement) -> str:
    listed = ", ".join(statement.actions) or "no action"
    return f"NotAction [{listed}]" if statement.not_actions else listed


def _key_policies(key: Resource, infra: Infrastructure) -> list[PolicyDocument]:
    documents = [document for document in [policy_of(key)] if document is not None]
    for label, source in infra.referrers(key):
        if source.type == "aws_kms_key_policy" and label == "key_id":
            document = policy_of(source)
            documents += [document] if document is not None else []
    return documents


def _protected_keys(infra: Infrastructure, policy: PolicyMap) -> dict[int, list[tuple[Resource, str]]]:
    """The keys Restricted vaults use, computed once per model and policy map."""
    return infra.of_model("keys of Restricted vaults", policy,
                          lambda: keys_of(restricted_vaults(infra, policy), infra))
