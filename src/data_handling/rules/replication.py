"""CKV_DH_102 — What stays in the tenant's region: "There is no cross-region read replica of customer PII."

No replica, copy or replication of Confidential (or Restricted) data lands in another region than its
source's. The resource that creates the copy is judged (a replication configuration, a table with replicas,
a replica instance, a backup plan, a copy resource); rules/copy_mechanisms.py lists the copies it makes. The
class that matters is the source's: the most sensitive of the copied resources, the copying resource's own
declaration, and any class a tag selection names (a replica destination is usually untagged). A copy of
Confidential data fails when its destination region differs from its source region, or when either region
cannot be determined (the copy cannot be verified). Same-region copies pass, and so do copies of data known to
be internal or public.

It fails closed on the class as on the regions: a copy into another region (or an unknown one) passes only when
the copied data is known to be below Confidential. The class cannot be determined when a source's tags (or its
provider's default_tags) could not be evaluated or hold a value that is not a class, when nothing declares a
class for a data store and the policy map has no `classification.default`, or when the copy takes stores outside
the configuration (a backup selection's wildcard) and there is no default to give them; the copy then fails as
unverifiable, saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from data_handling.model.classification import SENSITIVITY, classify
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.values import Known, Resolution, Unknown
from data_handling.policy.schema import PolicyMap
from data_handling.rules.copy_mechanisms import Copy, copies_made_by
from data_handling.rules.outcome import PASS, Outcome, fail

_UNVERIFIED = "the copy cannot be verified"


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    copies = copies_made_by(resource, infra, policy)
    if not copies:
        return None  # no copy configured, or `count = 0`: checkov lists the resource, Terraform creates none
    findings: list[str] = []
    kinds: set[str] = set()
    for copy in copies:
        regions = _regions(copy)
        if regions is None:
            continue  # within one region: whatever the data, it stays there
        crosses, where = regions
        judged = judge_class(copy, resource, infra, policy)
        if judged.sensitive:
            kind = "out" if crosses else "region"
            problem = where if crosses else f"{_UNVERIFIED}: {where}"
            finding = f"{_copies(copy)}: {problem}. The data is {judged.sensitive}."
        elif judged.unknown:
            kind = "class"
            finding = f"{_copies(copy)}: {_UNVERIFIED}: {'; '.join(judged.unknown)}; {where}."
        else:
            continue  # known to be internal or public: it may be copied anywhere
        kinds.add(kind)
        if finding not in findings:
            findings.append(finding)
    if not findings:
        return PASS
    if "out" in kinds:
        summary = "copies Confidential data out of its region"
    elif kinds == {"region"}:
        summary = "copies Confidential data to a region that cannot be verified"
    else:
        summary = "makes a copy that cannot be verified"
    return fail(f"{resource.address} {summary}. " + " ".join(findings))


class _Described(Protocol):
    @property
    def what(self) -> str: ...


class CopiedData(Protocol):
    """What judge_class reads of a copy: a Copy, or a share of data with another account (CKV_DH_105)."""

    @property
    def data(self) -> tuple[Resource, ...]: ...
    @property
    def declared(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def unseen(self) -> tuple[str, ...]: ...
    @property
    def one_dataset(self) -> bool: ...
    @property
    def sources_listed(self) -> bool: ...
    @property
    def source(self) -> _Described: ...


@dataclass(frozen=True)
class CopiedClass:
    """What is known of the class of the data a copy takes."""

    sensitive: str | None  # 'confidential (where it was declared)' when it is known to be at least Confidential
    unknown: tuple[str, ...]  # else, why the class cannot be determined ('the class of X cannot be determined: ...')


def judge_class(copy: CopiedData, resource: Resource, infra: Infrastructure, policy: PolicyMap) -> CopiedClass:
    """The most sensitive of the classes declared for the copied data (the sources', the copying resource's own,
    a selection's, classification.default for unclassified stores), and what hides a class: a source whose tags
    cannot be read, a store nothing classifies with no default, stores outside the configuration with no
    default. A class known to be Confidential or above decides; below that, anything unknown leaves the class
    undetermined."""
    store_types = policy.classification.store_types
    default = policy.classification.default
    candidates: list[tuple[str, str]] = list(copy.declared)
    unknown: list[str] = []
    unclassified: list[str] = []
    for source in dict.fromkeys([*copy.data, resource]):  # Resources compare by identity: ordered, no repeats
        classification = classify(source, infra, policy)
        if classification.deciding:
            candidates.append((classification.deciding.data_class, classification.deciding.source))
        if classification.problems:  # an unreadable declaration may be the most sensitive one
            unknown.append(f"the class of {source.address} cannot be determined: "
                           + "; ".join(classification.problems))
        elif not classification.declarations and source.type in store_types:
            if default:
                candidates.append((default, f"classification.default for {source.address}"))
            elif any(source is data for data in copy.data):
                unclassified.append(source.address)
    for stores in copy.unseen:
        if default:
            candidates.append((default, f"classification.default for {stores}"))
        else:
            unknown.append(f"the class of {stores} cannot be determined: this configuration cannot see them and "
                           "the policy map sets no classification.default")
    if unclassified and not (copy.one_dataset and candidates):  # one declaration classifies replicas of one dataset
        unknown.append(f"the class of {', '.join(unclassified)} cannot be determined: nothing declares one (a "
                       "classification tag, the provider's default_tags or a classification rule) and the policy "
                       "map sets no classification.default")
    if not candidates and not unknown and not copy.data and not copy.sources_listed:  # a source not in it
        if default:
            candidates.append((default, f"classification.default for {copy.source.what}"))
        else:
            unknown.append(f"the class of {copy.source.what} cannot be determined: it is not in this configuration, "
                           "nothing here declares its class and the policy map sets no classification.default")
    if candidates:
        data_class, where = max(candidates, key=lambda candidate: SENSITIVITY[candidate[0]])
        if SENSITIVITY[data_class] >= SENSITIVITY["confidential"]:
            return CopiedClass(f"{data_class} ({where})", ())
    return CopiedClass(None, tuple(unknown))


def class_of_copy(copy: Copy, resource: Resource, infra: Infrastructure, policy: PolicyMap) -> str | None:
    """'confidential (where it was declared)' when the copied data is known to be at least Confidential, else None."""
    return judge_class(copy, resource, infra, policy).sensitive


def _copies(copy: Copy) -> str:
    return f"{copy.how} copies {copy.source.what} to {copy.destination.what}"


def _regions(copy: Copy) -> tuple[bool, str] | None:
    """None when both sides are known to be in one region; else (True, 'the source is in A and the copy lands in
    B') or (False, why a side's region cannot be determined)."""
    source, destination = copy.source.region, copy.destination.region
    if isinstance(source, Known) and isinstance(destination, Known):
        if source.value == destination.value:
            return None
        return True, f"the source is in {_where(source)} and the copy lands in {_where(destination)}"
    sides: tuple[tuple[str, Resolution[str]], ...] = (("source", source), ("destination", destination))
    return False, "; ".join(f"the {side} region cannot be determined ({region.reason})"
                            for side, region in sides if isinstance(region, Unknown))


def _where(region: Known[str]) -> str:
    return f"{region.value} (from {region.source})"
