"""A resource's data class, from every source the contract lists; the most sensitive declaration wins."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from data_handling.model.addresses import address_matches
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.values import Known, Resolution, Unknown, as_text, is_unrendered
from data_handling.policy.schema import DATA_CLASSES, PolicyMap

SENSITIVITY = {name: rank for rank, name in enumerate(DATA_CLASSES)}  # public < ... < restricted


@dataclass(frozen=True, slots=True)
class Declaration:
    data_class: str
    source: str


@dataclass(frozen=True, slots=True)
class Classification:
    declarations: tuple[Declaration, ...]
    problems: tuple[str, ...]  # values that are not a class, tags that could not be evaluated
    default: str | None

    @property
    def effective(self) -> str | None:
        """The most sensitive declared class, else the policy map's default when no source declared anything
        (an invalid declaration is still a declaration: the default must not paper over it)."""
        if self.declarations:
            return max(self.declarations, key=lambda d: SENSITIVITY[d.data_class]).data_class
        return None if self.problems else self.default

    @property
    def deciding(self) -> Declaration | None:
        if not self.declarations:
            return None
        return max(self.declarations, key=lambda d: SENSITIVITY[d.data_class])

    def describe(self) -> str:
        """The effective class and where it was declared: 'confidential (tag data_class = ... in ...)'."""
        deciding = self.deciding
        if deciding is not None:
            return f"{deciding.data_class} ({deciding.source})"
        return f"{self.effective} (classification.default of the policy map)"

    def at_least(self, data_class: str) -> bool:
        effective = self.effective
        return effective is not None and SENSITIVITY[effective] >= SENSITIVITY[data_class]


def normalise_class(value: Any) -> str | None:
    text = as_text(value)
    if text is None:
        return None
    text = text.strip().lower()
    return text if text in SENSITIVITY else None


def classify(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Classification:
    """The resource's class under `policy`: derived once per resource, whichever check asks first."""
    return infra.derived("classification", resource, policy, lambda: _classify(resource, infra, policy))


def _classify(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Classification:
    declarations: list[Declaration] = []
    problems: list[str] = []
    tag_keys = policy.classification.tag_keys
    for where, tags in infra.tag_sources(resource):
        if not isinstance(tags, dict):
            if tags not in (None, [], {}):
                problems.append(f"{where} could not be evaluated ({tags!r}), so a class declared there is unknown")
            continue
        for key in tag_keys:
            if key not in tags:
                continue
            value = tags[key]
            data_class = normalise_class(value)
            if data_class:
                # one text for every resource that inherits the same default_tags (thousands in a large root)
                declarations.append(Declaration(data_class, sys.intern(f'tag {key} = "{value}" in {where}')))
            elif is_unrendered(value):
                problems.append(f'tag {key} in {where} is "{value}", which could not be evaluated')
            else:
                problems.append(f'tag {key} = "{value}" in {where} is not one of {", ".join(SENSITIVITY)}')
    for rule in policy.classification.rules:
        if address_matches(rule.match, resource.address):
            declarations.append(Declaration(rule.data_class, f'classification rule "{rule.match}" of the policy map'))
    provider = infra.provider_of(resource)
    if not declarations and isinstance(provider, Unknown) and not provider.implicit_provider:
        problems.append(f"the provider of {resource.address} (and so its default_tags) cannot be resolved: "
                        f"{infra.provider_of(resource).reason}")  # type: ignore[union-attr]
    return Classification(tuple(declarations), tuple(problems), policy.classification.default)


def tenant_of(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Resolution[str] | None:
    """The tenant tag (resource tags win over the provider's default_tags, as in AWS); None if untagged."""
    return infra.derived("tenant", resource, policy, lambda: _tenant_of(resource, infra, policy))


def _tenant_of(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Resolution[str] | None:
    key = policy.residency.tenant_tag_key
    for where, tags in infra.tag_sources(resource):
        if isinstance(tags, dict) and key in tags:
            value = as_text(tags[key])
            if value is None or is_unrendered(value):
                return Unknown(f'tag {key} in {where} is {tags[key]!r}, which could not be evaluated')
            return Known(value.strip(), sys.intern(f'tag {key} = "{value}" in {where}'))
    return None
