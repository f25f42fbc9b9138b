"""Which KMS key a vault is encrypted with: followed through references, aliases and key data sources.

A vault names its key in an attribute (`kms_key_id` of a Secrets Manager secret and of each of its `replica`
blocks, `key_id` of an SSM parameter). The value is a reference (an edge in checkov's graph, through modules,
outputs and locals), or a literal: an alias name, an alias or key ARN, a key ID. Literal alias names are matched
against the `aws_kms_alias` resources of the same root module; anything else is outside the configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from data_handling.model.arn import parse_arn
from data_handling.model.blocks import blocks
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.values import as_text, is_unrendered, unwrap

# Where each vault type names its key: (attribute, block it sits in or "").
KEY_ATTRIBUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "aws_secretsmanager_secret": (("kms_key_id", ""), ("kms_key_id", "replica")),
    "aws_ssm_parameter": (("key_id", ""),),
}
FALLBACK_KEY_ATTRIBUTES = ("kms_key_id", "kms_key_arn", "key_id", "kms_master_key_id")
# The AWS-managed key a vault type falls back to when it names none.
DEFAULT_KEYS = {"aws_secretsmanager_secret": "aws/secretsmanager", "aws_ssm_parameter": "aws/ssm"}
KEY_TYPES = ("aws_kms_key", "aws_kms_external_key", "aws_kms_replica_key", "aws_kms_replica_external_key")

_KEY_ID = re.compile(r"^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$", re.I)
_MAX_DEPTH = 6


@dataclass(frozen=True)
class KeySetting:
    """One place a vault names its key."""

    attribute: str  # as a reviewer reads it: "kms_key_id", "replica[1].kms_key_id"
    labels: tuple[str, ...]  # the graph edge labels it may carry: "kms_key_id", "replica.1.kms_key_id"
    value: Any  # the rendered value, None when not set


@dataclass(frozen=True)
class KeyTarget:
    """What a key setting resolves to."""

    kind: str  # key (a KMS key resource), aws_managed, outside (literal, not AWS-managed), multi_region_id, unknown
    text: str  # the key or the reason, for a finding
    path: str = ""  # how it was reached: " via aws_kms_alias.a (main.tf:3)"
    key: Resource | None = None


def key_settings(vault: Resource) -> tuple[list[KeySetting], list[str]]:
    """The key settings of a vault, and the blocks that could not be expanded."""
    settings: list[KeySetting] = []
    problems: list[str] = []
    known = KEY_ATTRIBUTES.get(vault.type)
    if known is None:  # a vault type of the user's own: the usual attribute names
        present = [name for name in FALLBACK_KEY_ATTRIBUTES if vault.get(name) is not None]
        known = tuple((name, "") for name in present[:1] or FALLBACK_KEY_ATTRIBUTES[:1])
    for attribute, block in known:
        if not block:
            settings.append(KeySetting(attribute, (attribute,), vault.get(attribute)))
            continue
        # Modules default replicas to none; a dynamic replica block checkov could not expand counts as none.
        found, block_problems = blocks(vault.config, block)
        problems += [f"{vault.address}: {problem}" for problem in block_problems]
        for number, entry in enumerate(found):
            # Checkov labels the edge of a single block "replica.kms_key_id", of several "replica.1.kms_key_id".
            labels = (f"{block}.{number}.{attribute}",) + ((f"{block}.{attribute}",) if len(found) == 1 else ())
            settings.append(KeySetting(f"{block}[{number}].{attribute}", labels, unwrap(entry.get(attribute))))
    return settings, problems


def resolve(vault: Resource, setting: KeySetting, infra: Infrastructure) -> list[KeyTarget]:
    """The keys a setting resolves to (several when a reference is ambiguous); empty when the value is unset."""
    if setting.value is None:
        return []
    literal = as_text(setting.value)
    if literal is not None and _is_literal(literal):
        return [_literal(literal, f'{setting.attribute} = "{literal}"', vault, infra, 0)]
    targets = [target for label, target in vault.references if label in setting.labels]
    if targets:
        return [resolved for target in targets for resolved in _follow(target, "", infra, 0)]
    return [KeyTarget("unknown", f"{setting.attribute} = {setting.value!r} could not be resolved to a KMS key "
                                 "(a variable without a value, or null, which leaves the AWS-managed key; or a "
                                 "reference checkov could not follow)")]


def _is_literal(text: str) -> bool:
    text = text.strip()
    return not is_unrendered(text) and (text.startswith(("alias/", "arn:")) or bool(_KEY_ID.match(text)))


def _follow(target: Resource, path: str, infra: Infrastructure, depth: int) -> list[KeyTarget]:
    if depth > _MAX_DEPTH:
        return [KeyTarget("unknown", f"the key reference through {target.describe()} is too deep to follow")]
    if target.type in KEY_TYPES and target.mode == "resource":
        return [KeyTarget("key", target.address, path, target)]
    if target.type == "aws_kms_alias" and target.mode == "resource":
        via = f"{path} via {target.describe()}"
        keys = [key for label, key in target.references if label == "target_key_id"]
        if keys:
            return [resolved for key in keys for resolved in _follow(key, via, infra, depth + 1)]
        key_id = as_text(target.get("target_key_id"))
        if key_id and not is_unrendered(key_id):
            return [_literal(key_id, f'target_key_id = "{key_id}" of {target.describe()}', target, infra, depth + 1)]
        return [KeyTarget("unknown", f"the target_key_id of {target.describe()} could not be resolved", path)]
    if target.mode == "data" and target.type in ("aws_kms_key", "aws_kms_alias"):
        attribute = "key_id" if target.type == "aws_kms_key" else "name"
        referenced = [key for label, key in target.references if label == attribute]
        if referenced:
            via = f"{path} via {target.describe()}"
            return [resolved for key in referenced for resolved in _follow(key, via, infra, depth + 1)]
        text = as_text(target.get(attribute))
        if text and not is_unrendered(text):
            return [_literal(text, f'{attribute} = "{text}" of {target.describe()}', target, infra, depth + 1)]
        return [KeyTarget("unknown", f"the {attribute} of {target.describe()} could not be evaluated", path)]
    return [KeyTarget("unknown", f"the key reference leads to {target.describe()}, which is not a KMS key", path)]


def _literal(text: str, written: str, holder: Resource, infra: Infrastructure, depth: int) -> KeyTarget:
    """A key given as text: an AWS-managed alias, an alias of the configuration, or a key outside it."""
    text = text.strip()
    arn = parse_arn(text)
    resource_part = arn.resource if arn else text
    if resource_part.startswith("alias/aws/"):
        return KeyTarget("aws_managed", written)
    if resource_part.startswith("alias/"):
        for alias in infra.in_same_root(holder, "aws_kms_alias"):
            if as_text(alias.get("name")) == resource_part:
                found = _follow(alias, "", infra, depth)[0]
                return replace(found, path=f'{found.path} (found by its name "{resource_part}")')
        return KeyTarget("outside", written)
    key_id = resource_part.removeprefix("key/")
    if arn is not None and resource_part.startswith("key/"):
        # A key ARN the model records as a key's `arn` (a key read from the live APIs, or one a plan knows).
        for key in infra.in_same_root(holder, *KEY_TYPES):
            if as_text(key.get("arn")) == text:
                return KeyTarget("key", key.address, "", key)
    if _KEY_ID.match(key_id) and (arn is None or resource_part.startswith("key/")):
        if key_id.lower().startswith("mrk-"):
            return KeyTarget("multi_region_id", written)
        return KeyTarget("outside", written)
    return KeyTarget("unknown", f"{written} is not a KMS key ID, key ARN or alias")


# --- which keys protect Restricted data ----------------------------------------------------------------------


def keys_of(vaults: list[Resource], infra: Infrastructure) -> dict[int, list[tuple[Resource, str]]]:
    """id(key resource) -> [(vault, how the vault reaches it)]: the KMS keys in the configuration these vaults use."""
    protected: dict[int, list[tuple[Resource, str]]] = {}
    for vault in vaults:
        for setting in key_settings(vault)[0]:
            for target in resolve(vault, setting, infra):
                if target.key is not None:
                    protected.setdefault(id(target.key), []).append((vault, f"{setting.attribute}{target.path}"))
    return protected
