"""Central telemetry: which destinations of logs, metrics and events are central, and why; which fields may go there.

A destination is central (contract, "Central telemetry") when its ARN's account is in
telemetry.central.account_ids, its bucket name matches telemetry.central.bucket_name_patterns, it is deployed
through a provider whose account is central (allowed_account_ids, assume_role), or it carries the
telemetry.central.tag tag (resource tags or its provider's default_tags). A destination that forwards what it
receives (a Firehose stream, a CloudWatch Logs destination) is central when what it delivers to is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from data_handling.model import dynamic_blocks
from data_handling.model.arn import parse_arn
from data_handling.model.fields import normalise_field_name
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.nested_blocks import resource_values_at
from data_handling.model.records import Resource
from data_handling.model.values import Known, Unknown, as_text, is_unrendered, unwrap
from data_handling.patterns import regex_search, wildcard_match
from data_handling.policy.schema import PolicyMap

# The attribute that names a resource, for finding a resource a literal name or ARN refers to.
_NAME_ATTRIBUTE = {
    "aws_s3_bucket": "bucket",
    "aws_cloudwatch_log_group": "name",
    "aws_kinesis_firehose_delivery_stream": "name",
    "aws_kinesis_stream": "name",
    "aws_cloudwatch_event_bus": "name",
    "aws_cloudwatch_log_destination": "name",
    "aws_glue_catalog_database": "name",
    "aws_oam_sink": "name",
}
# Where a forwarding resource delivers what it receives (attribute names anywhere in its configuration).
_FORWARDING = {
    "aws_kinesis_firehose_delivery_stream": {"bucket_arn", "domain_arn", "cluster_jdbcurl", "collection_endpoint",
                                             "catalog_arn"},
    "aws_cloudwatch_log_destination": {"target_arn"},
    "aws_cloudwatch_log_delivery_destination": {"destination_resource_arn"},
}
_MAX_HOPS = 3
# A reference checkov left as text: aws_s3_bucket.logs.arn, data.aws_s3_bucket.x.id, module.logs.bucket_arn
_REFERENCE_TEXT = re.compile(r"^(data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.[A-Za-z0-9_.]+$|^module\.")


@dataclass(frozen=True)
class Destination:
    shown: str  # the resource (address and file) or the literal value as written
    central: str | None = None  # why it is central: the rule that matched and the value
    unresolved: str | None = None  # why it cannot be told whether it is central

    def describe(self) -> str:
        if self.central:
            return f"{self.shown}, which is central: {self.central}"
        if self.unresolved:
            return f"{self.shown}, which cannot be told central or not: {self.unresolved}"
        return f"{self.shown}, which is not central"


def central_of(destinations: list[Destination]) -> list[Destination]:
    return [d for d in destinations if d.central]


def unresolved_of(destinations: list[Destination]) -> list[Destination]:
    """Destinations that cannot be told central or not (a central one among them already decides)."""
    return [d for d in destinations if d.unresolved and not d.central]


# --- the four rules ----------------------------------------------------------------------------------------


def central_bucket_pattern(bucket: str, policy: PolicyMap) -> str | None:
    return next((p for p in policy.telemetry.central.bucket_name_patterns if wildcard_match(p, bucket)), None)


def central_account(account: str, policy: PolicyMap) -> bool:
    return account in policy.telemetry.central.account_ids


def own_reasons(target: Resource, infra: Infrastructure, policy: PolicyMap) -> tuple[list[str], str | None]:
    """Why a resource itself is central (tag, provider account, bucket name, Glue catalog), and what could not
    be evaluated."""
    reasons: list[str] = []
    doubt = None
    ((tag_key, tag_value),) = policy.telemetry.central.tag.items()
    for where, tags in infra.tag_sources(target):
        if isinstance(tags, dict):
            value = as_text(tags.get(tag_key))
            if value is not None and value.strip().lower() == tag_value.strip().lower():
                reasons.append(f'it carries the tag {tag_key} = "{value}" ({where}), telemetry.central.tag')
            elif value is not None and is_unrendered(value):
                doubt = f"the tag {tag_key} in {where} is {value!r}, which could not be evaluated"
        elif tags not in (None, [], {}, ""):
            doubt = f"{where} could not be evaluated ({tags!r}), so whether it carries {tag_key} = {tag_value} " \
                    "is unknown"
    account = infra.account_of(target)
    if isinstance(account, Known):
        central = sorted(a for a in account.value if central_account(a, policy))
        if central:
            reasons.append(f"it is deployed into account {', '.join(central)} ({account.source}), which "
                           "telemetry.central.account_ids lists")
    elif "could not be evaluated" in account.reason:
        doubt = doubt or account.reason
    for attribute in ("bucket", "location_uri"):
        if target.type in ("aws_s3_bucket", "aws_glue_catalog_database") and attribute in target.config:
            name = bucket_name_of(target.text(attribute) or "")
            pattern = central_bucket_pattern(name, policy) if name else None
            if pattern:
                reasons.append(f'its bucket name "{name}" ({attribute}) matches telemetry.central.bucket_name_patterns '
                               f'"{pattern}"')
    catalog = target.text("catalog_id") if target.type.startswith("aws_glue_catalog_") else None
    if catalog and central_account(catalog.strip(), policy):
        reasons.append(f"its catalog_id {catalog.strip()} is an account telemetry.central.account_ids lists")
    return reasons, doubt


# --- assessing a destination -------------------------------------------------------------------------------


def assess(target: Resource, infra: Infrastructure, policy: PolicyMap, hops: int = 0) -> Destination:
    """Whether a resource a flow delivers to is central; a forwarder is central when what it delivers to is."""
    reasons, doubt = own_reasons(target, infra, policy)
    if reasons:
        return Destination(target.describe(), central="; ".join(reasons))
    if hops < _MAX_HOPS and target.type in _FORWARDING:
        for onward in forwarded_to(target, infra, policy, hops + 1):
            if onward.central:
                return Destination(target.describe(), central=f"it delivers to {onward.describe()}")
            doubt = doubt or (onward.unresolved and f"it delivers to {onward.describe()}")
    return Destination(target.describe(), unresolved=doubt)


def forwarded_to(target: Resource, infra: Infrastructure, policy: PolicyMap, hops: int) -> list[Destination]:
    keys = _FORWARDING.get(target.type, set())
    found = [assess(onward, infra, policy, hops) for label, onward in target.references
             if label.rsplit(".", 1)[-1] in keys and onward is not target]
    if not found:
        for key, value in _leaves(target.config):
            if key in keys:
                found += [_assess_literal(text, "arn", target, infra, policy, hops)
                          for text in _texts(value) if not _REFERENCE_TEXT.match(text)]
    return found


def destinations(resource: Resource, path: str, infra: Infrastructure, policy: PolicyMap,
                 kind: str = "arn") -> list[Destination]:
    """The destinations an attribute of a resource names (a block path such as access_logs.bucket): referenced
    resources, else the literal names or ARNs; values that could not be evaluated come back unresolved.

    kind says how to read a literal: "arn", "bucket" (name, ARN, s3:// URL or domain name) or "log_group".
    """
    targets = _referenced(resource, path)
    values, unresolved = resource_values_at(resource, path)
    if not targets:  # a reference inside a dynamic block fed by a module input leaves only its text
        targets = [t for value in values for text in _texts(value) for t in _named_by_reference(text, resource, infra)]
    targets = list({id(t): t for t in targets}.values())
    found = [assess(target, infra, policy) for target in targets]
    for value in values:
        for text in _texts(value):
            if _REFERENCE_TEXT.match(text) or is_unrendered(text):
                if not targets:
                    found.append(Destination(f'{path} = "{text}"', unresolved="the value could not be evaluated; "
                                             "reference the destination resource or give the variable a value"))
                continue
            if targets and (not parse_arn(text) or named_resource(text, kind, resource, infra) in targets):
                continue  # the value checkov rendered from a reference already followed
            found.append(_assess_literal(text, kind, resource, infra, policy))
    found += [Destination(f"{path} of {resource.address}", unresolved=reason) for reason in unresolved]
    return found


def _referenced(resource: Resource, path: str) -> list[Resource]:
    """Resources an attribute refers to, also from inside a dynamic block (edge dynamic.<block>.content.<rest>)."""
    first, _, rest = path.partition(".")
    labels = re.compile(rf"^({re.escape(path)}|dynamic\.(\d+\.)?{re.escape(first)}\.content\.{re.escape(rest)})(\.|$)")
    return [target for label, target in resource.references if labels.match(label)]


_REFERENCE_HEAD = re.compile(r"^(?:\$\{)?(?:data\.)?(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")


def _named_by_reference(text: str, resource: Resource, infra: Infrastructure) -> list[Resource]:
    """The resource a reference left as text names (`aws_s3_bucket.logs.arn`): one passed into the resource's module
    call (checkov renders `module.logs.arn` as the inner `aws_s3_bucket.this.arn`), else one of that address in the
    resource's own module."""
    call = re.match(r"^(?:\$\{)?module\.([A-Za-z0-9_-]+)", text)
    if call:  # module.logs.arn, passed into the resource's module: a resource that module call creates
        inner = re.compile(rf"(^|\.)module\.{re.escape(call.group(1))}(\[[^\]]*\])?(\.|$)")
        return [t for _, t in dynamic_blocks.input_references(infra, resource) if inner.search(t.module)]
    match = _REFERENCE_HEAD.match(text)
    if not match:
        return []
    kind, name = match.groups()
    passed = [t for _, t in dynamic_blocks.input_references(infra, resource) if t.type == kind and t.name == name]
    if passed:
        return passed
    local = infra.declared(resource.root_dir, resource.module, kind, name)
    return local if len(local) == 1 else []


def _assess_literal(text: str, kind: str, near: Resource, infra: Infrastructure, policy: PolicyMap,
                    hops: int = 0) -> Destination:
    shown = f'"{text}"'
    reasons = []
    arn = parse_arn(text)
    if arn and central_account(arn.account, policy):
        reasons.append(f"the ARN's account {arn.account} is in telemetry.central.account_ids")
    bucket = arn.resource.split("/", 1)[0] if arn and arn.service == "s3" else (
        bucket_name_of(text) if kind == "bucket" and not arn else None)
    pattern = central_bucket_pattern(bucket, policy) if bucket else None
    if pattern:
        reasons.append(f'the bucket name "{bucket}" matches telemetry.central.bucket_name_patterns "{pattern}"')
    if reasons:
        return Destination(shown, central="; ".join(reasons))
    target = named_resource(text, kind, near, infra)
    if target is not None:  # a resource of this configuration, named rather than referenced
        judged = assess(target, infra, policy, hops)
        return Destination(f"{shown} ({target.describe()})", judged.central, judged.unresolved)
    return Destination(shown)


# --- names, ARNs and buckets -------------------------------------------------------------------------------


def bucket_name_of(text: str) -> str:
    """The bucket in a bucket name, s3:// URL, S3 ARN or bucket domain name (x.s3.amazonaws.com)."""
    text = text.strip()
    arn = parse_arn(text)
    if arn:
        return arn.resource.split("/", 1)[0] if arn.service == "s3" else ""
    text = text.removeprefix("s3://").split("/", 1)[0]
    return re.sub(r"\.s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?$", "", text)


def _named(text: str, kind: str) -> tuple[str, str] | None:
    """(resource type, name) a literal name or ARN denotes."""
    arn = parse_arn(text)
    if arn:
        service, resource = arn.service, arn.resource
        if service == "s3":
            return "aws_s3_bucket", resource.split("/", 1)[0]
        if service == "logs" and resource.startswith("log-group:"):
            return "aws_cloudwatch_log_group", resource.removeprefix("log-group:").split(":", 1)[0]
        if service == "logs" and resource.startswith("destination:"):
            return "aws_cloudwatch_log_destination", resource.removeprefix("destination:")
        if service == "firehose" and resource.startswith("deliverystream/"):
            return "aws_kinesis_firehose_delivery_stream", resource.removeprefix("deliverystream/")
        if service == "kinesis" and resource.startswith("stream/"):
            return "aws_kinesis_stream", resource.removeprefix("stream/")
        if service == "events" and resource.startswith("event-bus/"):
            return "aws_cloudwatch_event_bus", resource.removeprefix("event-bus/")
        return None
    if kind == "bucket":
        return "aws_s3_bucket", bucket_name_of(text)
    if kind == "log_group":
        return "aws_cloudwatch_log_group", text.strip()
    return None


def _name_index(infra: Infrastructure) -> dict[tuple[str, str, str], list[Resource]]:
    """(root, type, name) -> resources, built once per model."""
    def build() -> dict[tuple[str, str, str], list[Resource]]:
        index: dict[tuple[str, str, str], list[Resource]] = {}
        for resource in infra.resources + infra.data_sources:
            attribute = _NAME_ATTRIBUTE.get(resource.type)
            name = resource.text(attribute) if attribute else None
            if name and not is_unrendered(name):
                index.setdefault((resource.root_dir, resource.type, name.strip()), []).append(resource)
        return index

    return infra.of_model("telemetry names", None, build)


def named_resource(text: str, kind: str, near: Resource, infra: Infrastructure) -> Resource | None:
    """The resource of `near`'s configuration that a literal name or ARN denotes, if exactly one does."""
    named = _named(text, kind)
    if not named or not named[1]:
        return None
    found = _name_index(infra).get((near.root_dir, *named), [])
    return found[0] if len(found) == 1 else None


def resources_named(resource_type: str, name: str, near: Resource, infra: Infrastructure) -> list[Resource]:
    return _name_index(infra).get((near.root_dir, resource_type, name.strip()), [])


# --- values ------------------------------------------------------------------------------------------------


def _texts(value: Any) -> list[str]:
    value = unwrap(value)
    if isinstance(value, list | tuple | set):
        return [text for item in value for text in _texts(item)]
    text = as_text(value)
    return [text.strip()] if text and text.strip() else []


def _leaves(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, value in node.items():
            if not str(name).startswith("__"):
                yield from _leaves(value, str(name))
    elif isinstance(node, list) and any(isinstance(item, dict) for item in node):
        for item in node:
            yield from _leaves(item, key)
    else:
        yield key, node


def same_account(first: Resource, second: Resource, infra: Infrastructure) -> bool:
    """False only when both accounts are known and differ."""
    a, b = infra.account_of(first), infra.account_of(second)
    return not (isinstance(a, Known) and isinstance(b, Known) and not a.value & b.value)


def same_region(first: Resource, second: Resource, infra: Infrastructure) -> bool:
    """False only when both regions are known and differ."""
    a, b = infra.region_of(first), infra.region_of(second)
    return isinstance(a, Unknown) or isinstance(b, Unknown) or a.value == b.value


# --- fields ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldJudgement:
    allowed: bool
    reason: str = ""  # why not: a forbidden reason with its pattern, or "not on telemetry.approved_fields"


def judge_field(name: str, policy: PolicyMap, carries: tuple[str, ...] = (), forbidden: tuple[str, ...] = (),
                selects: tuple[str, ...] = ()) -> FieldJudgement:
    """Whether a field may flow centrally.

    name: the field's name as listed; carries: the fields it actually carries when something other than its
    name decides (an access log variable), which are then what must be approved; forbidden: reasons the
    carried data never flows centrally; selects: names of the data a JSON path picks ($.detail.customer.email
    -> email), which must not match a forbidden pattern. A forbidden match wins over the approved list.
    """
    for candidate in (name, *carries, *selects):
        for entry in policy.telemetry.forbidden_fields:
            if regex_search(entry.pattern, normalise_field_name(candidate)):
                shown = "" if candidate == name else f' ("{candidate}")'
                return FieldJudgement(False, f'{entry.reason}{shown} (forbidden_fields pattern "{entry.pattern}")')
    if forbidden:
        return FieldJudgement(False, forbidden[0])
    approved = {normalise_field_name(field) for field in policy.telemetry.approved_fields}
    wanted = carries or (name,)
    missing = [field for field in wanted if normalise_field_name(field) not in approved]
    if missing:
        what = "" if missing == [name] else f" ({', '.join(dict.fromkeys(missing))})"
        return FieldJudgement(False, f"not on telemetry.approved_fields{what}")
    return FieldJudgement(True)
