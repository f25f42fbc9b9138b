"""Whose account a grant, share or copy reaches (CKV_DH_105), and whether that account is inside the organisation.

An account is read from what Terraform writes: a 12-digit ID, an ARN's account field (`arn:aws:iam::<id>:root`,
role, user and STS ARNs, a Backup vault or a Logs destination ARN), an AWS Organizations ARN (the organisation or an
OU, named by its `o-` ID), or a resource of this configuration, which is in the account of the provider it is
deployed through (`allowed_account_ids`, the `assume_role` role ARN; a provider that pins nothing uses the
credentials the configuration is applied with: the scanned account).

Inside the organisation (contract, policy map `organization`): an account in `organization.account_ids` or in
`telemetry.central.account_ids`, the organisation `organization.id`, and the scanned account itself: the account
of the resource that creates the grant. An account or principal that cannot be read is never taken as inside: it
comes back unresolved with what could not be read and how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from data_handling.model.addresses import strip_instance_key
from data_handling.model.arn import parse_arn
from data_handling.model.iam_policy import Statement
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import ProviderBlock, Resource
from data_handling.model.telemetry import central_bucket_pattern, named_resource
from data_handling.model.values import Known, Unknown, as_text, is_unrendered, unwrap
from data_handling.policy.schema import PolicyMap

ACCOUNT_ID = re.compile(r"^\d{12}$")
_ORGANIZATION_ARN = re.compile(r"^arn:aws[a-z-]*:organizations::(\d{12}):(organization|ou)/(o-[a-z0-9]+)"
                               r"(/ou-[a-z0-9-]+)?$")
_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")
_SERVICE_IDENTITY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(cloudfront|aws):")  # CloudFront OAI, AWS-owned roles
# data.aws_caller_identity: its account_id and id (the same account ID) and arn (the identity Terraform runs as,
# in that account) all name the account the configuration is applied with.
_CALLER_ACCOUNT = re.compile(r"aws_caller_identity\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.(account_id|id|arn)\b")
# The scanned account's own organisation, its OUs and the accounts it creates, read by data sources or managed here.
_OWN_ORGANISATION = re.compile(r"\baws_organizations_(organization|organizational_units?|account)\.[A-Za-z0-9_-]+")
# Data sources that look a resource up by name in their provider's account: the resource is in that account.
_LOOKED_UP = frozenset({"aws_iam_role", "aws_iam_user", "aws_iam_group", "aws_s3_bucket", "aws_kms_key",
                        "aws_kms_alias", "aws_sns_topic", "aws_sqs_queue", "aws_backup_vault", "aws_kinesis_stream",
                        "aws_kinesis_firehose_delivery_stream", "aws_cloudwatch_log_group", "aws_lambda_function",
                        "aws_cloudwatch_event_bus"})
# Accounts AWS owns for a service (ELB access logs, CloudTrail, Redshift audit logs, billing reports).
_SERVICE_ACCOUNT = re.compile(r"\bdata\.aws_(elb|cloudtrail|redshift|billing)_service_account\.")
_REFERENCE = re.compile(r"^(?:\$\{)?(?:(data)\.)?(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.[A-Za-z0-9_]+\}?$")
# Provider arguments that choose other credentials than the environment's: the account is then not the scanned one.
_CREDENTIAL_ARGUMENTS = ("profile", "access_key", "shared_credentials_files", "shared_config_files",
                         "assume_role_with_web_identity", "token")
FIX = ("write the account ID or ARN as a literal, give the variable a value (a default or terraform.tfvars), "
       "or reference a resource of this configuration; or scan the plan")


@dataclass(frozen=True)
class Party:
    """Who receives data, as written, and what is known of its account."""

    shown: str  # the value as written or the resource: '"arn:aws:iam::999999999999:root"', 'aws_s3_bucket.x (a.tf:3)'
    account: str | None = None  # a 12-digit account ID, when it is one
    inside: str | None = None  # why it is inside the organisation
    unresolved: str | None = None  # why its account cannot be determined, with how to fix it
    not_an_account: str | None = None  # an AWS service principal or AWS-owned identity: no customer account
    anyone: bool = False  # every account (Principal "*" with no condition that narrows it)
    organisation: str | None = None  # another AWS organisation (an o- ID that is not organization.id)
    outside_aws: str | None = None  # a recipient outside AWS accounts altogether (an HTTP endpoint), described

    @property
    def external(self) -> bool:
        return not (self.inside or self.unresolved or self.not_an_account)

    def describe(self) -> str:
        if self.unresolved:
            return f"{self.shown}, whose account cannot be determined: {self.unresolved}"
        if self.inside:
            return f"{self.shown}, inside the organisation: {self.inside}"
        if self.not_an_account:
            return f"{self.shown} ({self.not_an_account})"
        if self.anyone:
            return f"{self.shown}: any AWS account, those outside the organisation included"
        if self.organisation:
            return f"{self.shown}: organisation {self.organisation}, not organization.id"
        if self.outside_aws:
            return f"{self.shown}: {self.outside_aws}"
        account = f"account {self.account}" if self.account else "a party"
        return f"{self.shown}: {account}, outside the organisation"


# --- the organisation --------------------------------------------------------------------------------------


def inside_account(account: str, policy: PolicyMap, scanned: frozenset[str] = frozenset(),
                   scanned_source: str = "") -> str | None:
    """Why an account is inside the organisation, or None."""
    if account in policy.organization.account_ids:
        return f"account {account} is in organization.account_ids"
    if account in policy.telemetry.central.account_ids:
        return f"account {account} is a central telemetry account (telemetry.central.account_ids)"
    if account in scanned:
        return f"account {account} is the scanned account ({scanned_source})"
    return None


def inside_organisation(organisation_id: str, policy: PolicyMap) -> str | None:
    if policy.organization.id and organisation_id == policy.organization.id:
        return f"{organisation_id} is organization.id"
    return None


# --- where a resource of this configuration is deployed ----------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """The account a resource of this configuration is deployed into."""

    accounts: frozenset[str]  # known accounts (allowed_account_ids, the assume_role ARN); empty when not pinned
    source: str  # where that was read
    provider: ProviderBlock | None = None
    scanned: bool = False  # deployed with the credentials the configuration is applied with (nothing pinned)
    unresolved: str | None = None


def placement(resource: Resource, infra: Infrastructure) -> Placement:
    """The account a resource is deployed into, from the provider it uses."""
    return infra.derived("placement", resource, None, lambda: _placement(resource, infra))


def _placement(resource: Resource, infra: Infrastructure) -> Placement:
    provider = infra.provider_of(resource)
    if isinstance(provider, Unknown):
        if provider.implicit_provider:  # no provider block at all: the environment's credentials
            return Placement(frozenset(), "the default provider, configured from the environment", scanned=True)
        return Placement(frozenset(), "", unresolved=f"the provider of {resource.address} cannot be resolved: "
                                                       f"{provider.reason}")
    account = infra.account_of(resource)
    if isinstance(account, Known):
        return Placement(account.value, account.source, provider.value)
    block = provider.value
    if any(key in block.config for key in ("allowed_account_ids", "assume_role")):
        return Placement(frozenset(), provider.source, block, unresolved=account.reason)
    chosen = [key for key in _CREDENTIAL_ARGUMENTS if block.get(key) is not None]
    if chosen:
        return Placement(frozenset(), provider.source, block, unresolved=(
            f"{block.describe()} sets {', '.join(chosen)}, so its account cannot be read from the configuration; "
            "set allowed_account_ids in that provider block"))
    return Placement(frozenset(), provider.source, block, scanned=True)


def recipient_resource(target: Resource, home: Placement, infra: Infrastructure, policy: PolicyMap) -> Party:
    """A resource of this configuration that receives data (a destination bucket, a role granted access)."""
    return _party_of_placement(target.describe(), placement(target, infra), home, policy)


def _party_of_placement(shown: str, where: Placement, home: Placement, policy: PolicyMap) -> Party:
    if where.provider is not None and where.provider is home.provider:  # one account, whichever it is
        return Party(shown, inside=f"it is deployed through the same provider configuration ({where.source})")
    if where.unresolved:
        return Party(shown, unresolved=where.unresolved)
    if where.scanned:
        return Party(shown, inside=f"it is deployed with the credentials the configuration is applied with, into "
                                   f"the scanned account ({where.source})")
    outside = [a for a in sorted(where.accounts) if not inside_account(a, policy, home.accounts, home.source)]
    if outside:
        return Party(shown, account=outside[0])
    reasons = [inside_account(a, policy, home.accounts, home.source) for a in sorted(where.accounts)]
    return Party(shown, account=min(where.accounts), inside=f"{'; '.join(r for r in reasons if r)} "
                                                            f"({where.source})")


# --- an account, principal or ARN as written ---------------------------------------------------------------


def recipient_text(value: Any, near: Resource, home: Placement, infra: Infrastructure, policy: PolicyMap,
                   what: str, kind: str = "arn") -> Party:
    """A recipient written as a value: an account ID, a principal, an ARN (a bucket ARN or name with kind="bucket"),
    or a reference checkov left as text (`aws_iam_role.partner.arn`)."""
    text = as_text(value)
    if text is None:
        return Party(f"{what} = {unwrap(value)!r}",
                     unresolved=f"{what} of {near.address} could not be evaluated; {near.how_to_know(FIX)}")
    text = text.strip()
    shown = f'{what} "{text}"'
    if _CALLER_ACCOUNT.search(text):  # the account the configuration is applied with, alone or in an ARN
        return Party(shown, inside="its account is data.aws_caller_identity's: the scanned account")
    if _OWN_ORGANISATION.search(text):
        return Party(shown, inside="it names the scanned account's own organisation (aws_organizations_*)")
    if _SERVICE_ACCOUNT.search(text):
        return Party(shown, not_an_account="an account AWS owns for a service")
    target = referenced_by_text(text, near, infra)
    if target is not None:
        return _party_of_placement(f"{shown} ({target.describe()})", placement(target, infra), home, policy)
    if is_unrendered(text) or text.startswith("module.") or _REFERENCE.match(text):
        reason = getattr(value, "reason", "") or getattr(unwrap(value), "reason", "")
        because = f" ({reason})" if reason else ""
        return Party(shown, unresolved=f"{text!r} in {near.address} could not be evaluated{because}; "
                                       f"{near.how_to_know(FIX)}")
    if text == "*":
        return Party(shown, anyone=True)
    if ACCOUNT_ID.match(text):
        return _party_of_account(shown, text, home, policy)
    if _SERVICE_PRINCIPAL.match(text):
        return Party(shown, not_an_account="an AWS service principal, not an account")
    if _SERVICE_IDENTITY_ARN.match(text):
        return Party(shown, not_an_account="an identity AWS owns, not a customer account")
    organisation = _ORGANIZATION_ARN.match(text)
    if organisation:
        org_id = organisation.group(3)
        inside = inside_organisation(org_id, policy)
        if inside:
            return Party(shown, inside=inside)
        if policy.organization.id:
            return Party(shown, organisation=org_id)
        return Party(shown, unresolved=f"it names organisation {org_id} and the policy map sets no organization.id; "
                                       "set it to your organisation's ID")
    arn = parse_arn(text)
    if arn is not None and arn.account and ACCOUNT_ID.match(arn.account):
        return _party_of_account(shown, arn.account, home, policy)
    if arn is not None and arn.account == "aws":
        return Party(shown, not_an_account="a resource AWS owns")
    if kind == "bucket" or (arn is not None and arn.service == "s3"):
        return _bucket_party(text, shown, near, home, infra, policy)
    if arn is not None:
        target = named_resource(text, "arn", near, infra)
        if target is not None:
            return _party_of_placement(f"{shown} ({target.describe()})", placement(target, infra), home, policy)
    return Party(shown, unresolved=f"{shown} of {near.address} names no account that can be read (not an account "
                                   f"ID, an ARN with an account, or a resource of this configuration); "
                                   f"{near.how_to_know(FIX)}")


def _party_of_account(shown: str, account: str, home: Placement, policy: PolicyMap) -> Party:
    inside = inside_account(account, policy, home.accounts, home.source)
    return Party(shown, account=account, inside=inside)


def _bucket_party(text: str, shown: str, near: Resource, home: Placement, infra: Infrastructure,
                  policy: PolicyMap) -> Party:
    """S3 bucket ARNs carry no account: the bucket must be found in this configuration, or be central telemetry."""
    from data_handling.model.telemetry import bucket_name_of

    name = bucket_name_of(text)
    pattern = central_bucket_pattern(name, policy) if name else None
    if pattern:
        return Party(shown, inside=f'the bucket name "{name}" matches telemetry.central.bucket_name_patterns '
                                   f'"{pattern}" (central telemetry is inside)')
    target = named_resource(text, "bucket", near, infra)
    if target is not None:
        return _party_of_placement(f"{shown} ({target.describe()})", placement(target, infra), home, policy)
    return Party(shown, unresolved=f'bucket "{name}" is not created in this configuration and S3 ARNs carry no '
                                   "account; create the bucket in this configuration through a provider with "
                                   "allowed_account_ids, state the destination account where the mechanism takes "
                                   "one, or scan the plan")


def referenced_by_text(text: str, near: Resource, infra: Infrastructure) -> Resource | None:
    """The resource a reference left as text names (`aws_iam_role.partner.arn`), in the module of `near`."""
    match = _REFERENCE.match(text.strip())
    if not match:
        return None
    mode, kind, name = match.groups()
    wanted = "data" if mode else "resource"
    if mode and kind not in _LOOKED_UP:
        return None  # a data source that reads something this configuration cannot place
    found = [r for r in infra.declared(near.root_dir, near.module, kind, name) if r.mode == wanted]
    if not found and not mode:  # passed in through a module input: the name it has where written is kept
        found = [r for r in infra.in_same_root(near, kind) if strip_instance_key(r.name) == name]
        found = found if len({r.module for r in found}) == 1 else []  # two modules' aws_iam_role.this: ambiguous
    return found[0] if len(found) == 1 else None


# --- resource-policy statements ------------------------------------------------------------------------------

_ORG_ID_KEYS = frozenset({"aws:principalorgid", "aws:resourceorgid", "aws:sourceorgid"})
_ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:resourceorgpaths", "aws:sourceorgpaths"})
_ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount", "aws:resourceaccount", "aws:sourceowner",
                           "kms:calleraccount", "s3:dataaccesspointaccount"})
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn", "s3:dataaccesspointarn"})
_NETWORK_KEYS = frozenset({"aws:sourcevpc", "aws:sourcevpce", "aws:sourcevpcarn", "aws:sourceip", "aws:vpcsourceip"})
_POSITIVE = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress"})


def statement_recipients(statement: Statement, near: Resource, home: Placement, infra: Infrastructure,
                         policy: PolicyMap) -> list[Party]:
    """Who an Allow statement of a resource policy grants access to: each principal, narrowed by conditions that
    name an organisation or account (aws:PrincipalOrgID = organization.id puts any principal inside)."""
    if not statement.allows:
        return []
    narrowed = _narrowed(statement, near, home, infra, policy)
    if statement.wildcard_principal:
        shown = "NotPrincipal (everyone but the listed)" if statement.not_principals else 'Principal "*"'
        if narrowed is None:
            return [Party(shown, anyone=True)]
        return [Party(f"{shown} with {narrowed.shown}", narrowed.account, narrowed.inside, narrowed.unresolved,
                      narrowed.not_an_account, narrowed.anyone, narrowed.organisation)]
    parties = []
    for principal in statement.principals:
        what = "principal"
        if principal.kind == "Service":
            party = Party(f'{what} "{principal.identifier}"', not_an_account="an AWS service principal")
        elif principal.kind == "CanonicalUser":
            party = Party(f'{what} CanonicalUser "{principal.identifier}"', unresolved=(
                "a canonical user ID does not say which account it is; grant to the account ID or an IAM ARN"))
            if "s3_canonical_user_id" in principal.identifier:  # a CloudFront origin access identity
                party = Party(party.shown, not_an_account="a CloudFront origin access identity")
        else:
            party = recipient_text(principal.identifier, near, home, infra, policy, what)
        if narrowed is not None and narrowed.inside and not party.inside and not party.not_an_account:
            party = Party(f"{party.shown} with {narrowed.shown}", party.account, inside=narrowed.inside)
        parties.append(party)
    return parties


def _narrowed(statement: Statement, near: Resource, home: Placement, infra: Infrastructure,
              policy: PolicyMap) -> Party | None:
    """Who the conditions of a statement narrow its callers to: inside when one condition admits only the
    organisation (conditions AND), else the first outside or unreadable party they name; None when no condition
    names an organisation, account or network."""
    found: list[Party] = []
    for condition in statement.conditions:
        key = condition.key.strip().lower()
        operator = condition.operator.strip().lower().removeprefix("foranyvalue:")
        if operator not in _POSITIVE or key not in _ORG_ID_KEYS | _ORG_PATH_KEYS | _ACCOUNT_KEYS | _ARN_KEYS \
                | _NETWORK_KEYS:
            continue
        shown = f"condition {condition}"
        if condition.unknown_values:
            found.append(Party(shown, unresolved=f"{shown} of {statement.where} could not be evaluated; "
                                                 f"{near.how_to_know(FIX)}"))
            continue
        if condition.open_values and not (key in _ORG_PATH_KEYS and all(  # o-abc/r-x/* is within o-abc
                inside_organisation(value.strip().split("/", 1)[0], policy) and "/" in value
                and "*" not in value.split("/", 1)[0] for value in condition.values)):
            found.append(Party(shown, anyone=True))
            continue
        if key in _NETWORK_KEYS:  # requests must come from a network: a network grant, not an account's
            found.append(Party(shown, inside="it admits requests from a network only (CKV_DH_103 judges networks)"))
            continue
        parties = [_condition_value(key, value, shown, near, home, infra, policy) for value in condition.values]
        outside = [p for p in parties if not p.inside]
        found.append(outside[0] if outside else Party(shown, inside="; ".join(p.inside or "" for p in parties)))
    found += [Party(f"conditions of {statement.where}", unresolved=f"{problem}; {near.how_to_know(FIX)}")
              for problem in statement.condition_problems]
    inside = [party for party in found if party.inside]
    if inside:
        return inside[0]
    return found[0] if found else None


def _condition_value(key: str, value: str, shown: str, near: Resource, home: Placement, infra: Infrastructure,
                     policy: PolicyMap) -> Party:
    text = value.strip()
    if _OWN_ORGANISATION.search(text):
        return Party(shown, inside="it names the scanned account's own organisation (aws_organizations_*)")
    if key in _ORG_ID_KEYS:
        inside = inside_organisation(text, policy)
        if inside:
            return Party(shown, inside=inside)
        if not policy.organization.id:
            return Party(shown, unresolved=f'it names organisation "{text}" and the policy map sets no '
                                           "organization.id; set it to your organisation's ID")
        return Party(shown, organisation=text)
    if key in _ORG_PATH_KEYS:
        org_id = text.split("/", 1)[0]
        inside = inside_organisation(org_id, policy)
        return Party(shown, inside=f"the path starts with {inside}") if inside else Party(shown, organisation=org_id)
    party = recipient_text(value, near, home, infra, policy, shown)
    return Party(shown, party.account, party.inside, party.unresolved, party.not_an_account, party.anyone,
                 party.organisation)
