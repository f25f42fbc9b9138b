"""Raw logs that carry identifiers by default (CKV_DH_303): what each log source sends where, and whether the log
group it ships is de-identified at source by a CloudWatch Logs data protection policy.

De-identified at source means a data protection policy on the source log group (resource-level, or the
account-level DATA_PROTECTION_POLICY of the same account and region) whose Deidentify operation masks the
managed data identifiers for what the group holds. An audit-only statement does not count.

Managed data identifiers that must be masked, by what writes to the log group:
- only VPC flow logs or Route 53 resolver query logs (structured; IP addresses are their only personal data):
  IpAddress;
- anything else (application logs, API Gateway, CloudTrail, WAF, or a writer the scan cannot see): EmailAddress,
  IpAddress, Name, Address, CreditCardNumber (the policy's emails, IP addresses, names, addresses, and card data
  standing in for payment tokens).

Logs that reach a central destination directly (flow logs to a central bucket, ALB access logs, CloudTrail, WAF,
resolver query logs) pass through no log group of the source account, so nothing de-identifies them at source.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from data_handling.model.apigw_format import parse_format
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.nested_blocks import blocks, blocks_at, resource_blocks, resource_values_at
from data_handling.model.records import Resource
from data_handling.model.telemetry import (
    Destination,
    central_of,
    destinations,
    named_resource,
    same_account,
    same_region,
    unresolved_of,
)
from data_handling.model.values import as_text, is_unrendered, unwrap
from data_handling.policy.schema import PolicyMap

APPLICATION_IDENTIFIERS = ("EmailAddress", "IpAddress", "Name", "Address", "CreditCardNumber")
IP_IDENTIFIERS = ("IpAddress",)
_IP_ONLY_WRITERS = {"aws_flow_log": "VPC flow logs", "aws_route53_resolver_query_log_config": "resolver query logs"}
_FLOW_LOG_ADDRESSES = {"srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr"}
_IDENTIFYING_TOKENS = {"ip", "addr", "srcaddr", "dstaddr", "uri", "query", "cookie", "referer", "referrer", "user",
                       "agent", "useragent", "forwarded", "email", "clientip", "sourceip"}


@dataclass
class SourceGroup:
    """The log group whose events flow: named by a subscription filter, or every group an OAM link shares."""

    shown: str
    name: str | None = None
    group: Resource | None = None


@dataclass
class RawFlow:
    resource: Resource
    what: str  # "VPC flow logs"
    identifiers: str | None  # what they carry; None when the configuration shows they carry no identifiers
    destinations: list[Destination]
    source: SourceGroup | None = None  # a log group that a data protection policy can de-identify at source
    also: list[str] = field(default_factory=list)  # what else flows that no data protection policy covers
    notes: list[str] = field(default_factory=list)  # assumptions made, e.g. an enabled flag not evaluated

    @property
    def central(self) -> list[Destination]:
        return central_of(self.destinations)

    @property
    def unresolved(self) -> list[Destination]:
        return unresolved_of(self.destinations)


def raw_flow_of(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> RawFlow | None:
    """The raw log flow a resource configures, or None when it configures none."""
    def to(path: str, kind: str = "arn") -> list[Destination]:
        return destinations(resource, path, infra, policy, kind)

    kind = resource.type
    if kind == "aws_flow_log":
        destination_type = (resource.text("log_destination_type") or "cloud-watch-logs").strip()
        literal = {"s3": "bucket", "cloud-watch-logs": "log_group"}.get(destination_type, "arn")
        return RawFlow(resource, "VPC flow logs", _flow_log_identifiers(resource),
                       to("log_destination", literal) + to("log_group_name", "log_group"))
    if kind in ("aws_lb", "aws_alb", "aws_elb"):
        found, notes = [], []
        default = kind == "aws_elb"  # classic ELB access logs are on once configured; ALB/NLB ones default to off
        for block_name in ("access_logs", "connection_logs"):
            configured = resource_blocks(resource, block_name)
            found += [Destination(f"{block_name} of {resource.address}", unresolved=u) for u in configured.unresolved]
            for block in configured.found:
                enabled, note = _enabled(block, default, f"{block_name}.enabled")
                notes += [note] if note else []
                if enabled:
                    found += to(f"{block_name}.bucket", "bucket")
        if not found:
            return None
        return RawFlow(resource, "load balancer access logs", "client IP addresses and ports, request lines with URL "
                       "paths and query strings, and user agents", found, notes=notes)
    if kind == "aws_cloudfront_distribution":
        if not _configured(resource, "logging_config"):
            return None
        return RawFlow(resource, "CloudFront standard logs", "client IP addresses (c-ip), URL paths and query strings, "
                       "cookies, referers and user agents", to("logging_config.bucket", "bucket"))
    if kind == "aws_s3_bucket_logging":
        return RawFlow(resource, "S3 server access logs", "remote IP addresses, requesters, object keys and request "
                       "URIs", to("target_bucket", "bucket"))
    if kind == "aws_s3_bucket":
        if not _configured(resource, "logging"):
            return None
        return RawFlow(resource, "S3 server access logs (logging block)", "remote IP addresses, requesters, object "
                       "keys and request URIs", to("logging.target_bucket", "bucket"))
    if kind == "aws_cloudtrail":
        return RawFlow(resource, "CloudTrail events", "caller IP addresses (sourceIPAddress), user identities "
                       "(userIdentity) and user agents",
                       to("s3_bucket_name", "bucket") + to("cloud_watch_logs_group_arn", "log_group"))
    if kind == "aws_wafv2_web_acl_logging_configuration":
        return RawFlow(resource, "WAF logs", "client IP addresses (clientIp, which redacted_fields cannot redact), "
                       "request headers and URIs", to("log_destination_configs"))
    if kind == "aws_route53_resolver_query_log_config":
        return RawFlow(resource, "Route 53 resolver query logs", "the IP addresses of the clients (srcaddr) and the "
                       "names they query", to("destination_arn"))
    if kind == "aws_cloudwatch_log_subscription_filter":
        source = _source_group(resource, infra)
        return RawFlow(resource, f"the events of {source.shown}", "whatever the application logs (emails, names, "
                       "addresses, IP addresses)", to("destination_arn"), source=source)
    if kind == "aws_oam_link":
        return _oam_link(resource, infra, policy)
    if kind in ("aws_api_gateway_stage", "aws_apigatewayv2_stage"):
        return _stage(resource, infra, policy)
    if kind == "aws_cloudwatch_log_delivery":
        return _log_delivery(resource, infra, policy)
    return None


def _flow_log_identifiers(flow_log: Resource) -> str | None:
    log_format = flow_log.text("log_format")
    default = "source and destination IP addresses (srcaddr, dstaddr)"
    if not log_format:
        return default
    fields = set(re.findall(r"\$\{([a-z0-9-]+)\}", log_format))
    if not fields:
        return f"{default}, as far as is known: its log_format {log_format!r} could not be evaluated"
    carried = sorted(fields & _FLOW_LOG_ADDRESSES)
    return f"IP addresses ({', '.join(carried)}, from its log_format)" if carried else None


def _configured(resource: Resource, name: str) -> bool:
    configured = resource_blocks(resource, name)
    return bool(configured.found or configured.unresolved)


def _enabled(block: dict[str, Any], default: bool, where: str) -> tuple[bool, str]:
    value = unwrap(block.get("enabled"))
    if value is None:
        return default, ""
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true", ""
    return True, f"{where} is {value!r}, which could not be evaluated, so the logs are taken to be on"


# --- log groups: subscription filters and OAM links -------------------------------------------------------


def _source_group(resource: Resource, infra: Infrastructure) -> SourceGroup:
    referenced = infra.referenced(resource, "log_group_name")
    groups = [g for g in referenced if g.type == "aws_cloudwatch_log_group"]
    if len(groups) == 1:
        group = groups[0]
        name = group.text("name")
        return SourceGroup(f"log group {group.describe()}", name if name and not is_unrendered(name) else None, group)
    name = resource.text("log_group_name")
    if name and not is_unrendered(name):
        group = named_resource(name, "log_group", resource, infra)
        return SourceGroup(f'log group "{name}"' + (f" ({group.describe()})" if group else ""), name.strip(), group)
    return SourceGroup(f"log group {name!r}")


def _oam_link(link: Resource, infra: Infrastructure, policy: PolicyMap) -> RawFlow | None:
    types = {str(t) for t in _listed(unwrap(link.config.get("resource_types")))}
    shares_logs, shares_traces = "AWS::Logs::LogGroup" in types, "AWS::XRay::Trace" in types
    if not shares_logs and not shares_traces:
        return None
    group_filter = resource_values_at(link, "link_configuration.log_group_configuration.filter")[0]
    selected = f" selected by {group_filter[0]!r}" if group_filter else ""
    what = " and ".join(filter(None, [shares_logs and f"the account's log groups{selected} (AWS::Logs::LogGroup)",
                                      shares_traces and "its X-Ray traces (AWS::XRay::Trace)"]))
    carried = " and ".join(filter(None, [shares_logs and "whatever the applications log",
                                         shares_traces and "the client IP addresses and URLs of traced requests"]))
    flow = RawFlow(link, what, carried, destinations(link, "sink_identifier", infra, policy))
    if shares_logs:
        flow.source = SourceGroup("every log group of the account" + selected)
    if shares_logs and shares_traces:
        flow.also.append("X-Ray traces (client IP addresses and URLs), which no data protection policy masks")
    return flow


def _stage(stage: Resource, infra: Infrastructure, policy: PolicyMap) -> RawFlow | None:
    settings = resource_blocks(stage, "access_log_settings")
    if not settings.found and not settings.unresolved:
        return None
    found = destinations(stage, "access_log_settings.destination_arn", infra, policy)
    identifying: list[str] = []
    for block in settings.found:
        parsed = parse_format(block.get("format"))
        if parsed is None:
            identifying.append(f"whatever its format puts in (the format {unwrap(block.get('format'))!r} could not "
                               "be evaluated)")
            continue
        identifying += [f"{c.variable} ({c.meaning})" for f in parsed for c in f.carried if c.identifies]
    if settings.unresolved:
        identifying.append(f"whatever its format puts in ({'; '.join(settings.unresolved)})")
    identifiers = ", ".join(dict.fromkeys(identifying)) or None
    return RawFlow(stage, "API Gateway access logs", identifiers, found)


def _log_delivery(delivery: Resource, infra: Infrastructure, policy: PolicyMap) -> RawFlow:
    sources = infra.referenced(delivery, "delivery_source_name")
    what = "vended logs"
    if len(sources) == 1:
        source = sources[0]
        logged = infra.referenced(source, "resource_arn")
        of = logged[0].address if len(logged) == 1 else source.text("resource_arn") or source.address
        what = f"{source.text('log_type') or 'vended'} logs of {of} (delivery source {source.address})"
    record_fields = [as_text(v) or "" for v in _listed(unwrap(delivery.config.get("record_fields")))]
    identifiers: str | None = "client IP addresses, URL paths and query strings, cookies and user agents"
    if record_fields and not any(is_unrendered(f) for f in record_fields):
        carried = [f for f in record_fields if set(re.split(r"[^a-z0-9]+", f.lower())) & _IDENTIFYING_TOKENS]
        identifiers = f"the record fields {', '.join(carried)}" if carried else None
    return RawFlow(delivery, what, identifiers, destinations(delivery, "delivery_destination_arn", infra, policy))


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple | set) else [value]


# --- de-identification at source ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Protection:
    protected: bool
    found: str  # what protects the group, or why it is not protected


def protection(flow: RawFlow, infra: Infrastructure) -> Protection:
    """Whether the source log group of a flow is de-identified at source by a data protection policy."""
    source = flow.source
    if source is None:
        return Protection(False, "")
    required = _required_identifiers(source, infra)
    masked: set[str] = set()
    audited: set[str] = set()
    seen: list[str] = []
    problems: list[str] = []
    near = flow.resource
    candidates = []
    if source.group is not None or source.name:
        for policy_resource in infra.in_same_root(near, "aws_cloudwatch_log_data_protection_policy"):
            targets = infra.referenced(policy_resource, "log_group_name")
            named = policy_resource.text("log_group_name")
            if (source.group is not None and source.group in targets) or (
                    source.name and named and named.strip() == source.name):
                candidates.append(policy_resource)
    for account_policy in infra.in_same_root(near, "aws_cloudwatch_log_account_policy"):
        if (account_policy.text("policy_type") or "").strip() == "DATA_PROTECTION_POLICY" and \
                same_account(account_policy, near, infra) and same_region(account_policy, near, infra):
            candidates.append(account_policy)
    for candidate in candidates:
        document_masked, document_audited, problem = _document_identifiers(candidate, infra)
        seen.append(candidate.address)
        if problem:
            problems.append(problem)
        masked |= document_masked
        audited |= document_audited
    required_text = ", ".join(required)
    missing = [name for name in required if name.lower() not in {m.lower() for m in masked}]
    by = ", ".join(seen)
    if not missing:
        return Protection(True, f"{source.shown} is de-identified at source by {by}, which masks {required_text}")
    if not seen:
        return Protection(False, f"no CloudWatch Logs data protection policy de-identifies {source.shown} at source "
                                 f"(it would have to mask {required_text})")
    if problems and not masked:
        return Protection(False, f"{'; '.join(problems)}, so whether it masks {required_text} in {source.shown} is "
                                 "unknown")
    detail = f"{by} masks {', '.join(sorted(masked)) or 'nothing'}"
    if audited - masked:
        detail += f" and only audits {', '.join(sorted(audited - masked))}"
    detail += f"; to de-identify {source.shown} it must mask {', '.join(missing)} too"
    if problems:
        detail += f" ({'; '.join(problems)})"
    return Protection(False, detail)


def _required_identifiers(source: SourceGroup, infra: Infrastructure) -> tuple[str, ...]:
    if source.group is None:
        return APPLICATION_IDENTIFIERS
    writers = {r.type for _, r in infra.referrers(source.group)
               if r.type not in ("aws_cloudwatch_log_subscription_filter", "aws_cloudwatch_log_metric_filter",
                                 "aws_cloudwatch_log_data_protection_policy", "aws_cloudwatch_log_stream",
                                 "aws_iam_policy_document", "aws_iam_role_policy", "aws_iam_policy")
               and not r.type.startswith("aws_iam_")}
    if writers and writers <= set(_IP_ONLY_WRITERS):
        return IP_IDENTIFIERS
    return APPLICATION_IDENTIFIERS


def _document_identifiers(policy_resource: Resource, infra: Infrastructure) -> tuple[set[str], set[str], str]:
    """(masked, audited) managed or custom data identifier names of a data protection policy, or a problem."""
    masked: set[str] = set()
    audited: set[str] = set()
    documents = [target for label, target in policy_resource.references if label == "policy_document"
                 and target.type == "aws_cloudwatch_log_data_protection_policy_document"]
    if documents:
        for statement in resource_blocks(documents[0], "statement").found:
            names = {_identifier(v) for v in _listed(unwrap(statement.get("data_identifiers")))}
            operations = blocks(statement, "operation").found
            if any(blocks_at(op, "deidentify").found for op in operations):
                masked |= names
            elif any(blocks_at(op, "audit").found for op in operations):
                audited |= names
        return masked, audited, ""
    document = unwrap(policy_resource.config.get("policy_document"))
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return masked, audited, f"the policy_document of {policy_resource.address} could not be evaluated"
    if not isinstance(document, dict):
        return masked, audited, f"the policy_document of {policy_resource.address} could not be evaluated"
    for statement in _listed(document.get("Statement")):
        if not isinstance(statement, dict):
            continue
        identifiers = statement.get("DataIdentifier")
        if is_unrendered(identifiers) or any(is_unrendered(v) for v in _listed(identifiers)):
            reason = getattr(identifiers, "reason", "") or next(
                (getattr(v, "reason", "") for v in _listed(identifiers) if is_unrendered(v)), "")
            return masked, audited, (f"the DataIdentifier of the policy_document of {policy_resource.address} "
                                     f"could not be evaluated{f' ({reason})' if reason else ''}")
        names = {_identifier(v) for v in _listed(identifiers)}
        operation = statement.get("Operation") or {}
        if isinstance(operation, dict) and "Deidentify" in operation:
            masked |= names
        elif isinstance(operation, dict) and "Audit" in operation:
            audited |= names
    return masked, audited, ""


def _identifier(value: Any) -> str:
    """arn:aws:dataprotection::aws:data-identifier/EmailAddress -> EmailAddress; a custom identifier's name."""
    return str(value).strip().rsplit("/", 1)[-1]
