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

from data_handling.model.arn import parse_arn
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
_CALLER_ACCOUNT = re.compile(r"aws_caller_identity\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.account_id")
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
    if where.unresolved:
        return Party(shown, unresolved=where.unresolved)
    if where.provider is not None and where.provider is home.provider:
        return Party(shown, inside=f"it is deployed through the same provider configuration ({where.source})")
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
                     unresolved=f"{what} of {near.address} could not be evaluated; {FIX}")
    text = text.strip()
    shown = f'{what} "{text}"'
    if _CALLER_ACCOUNT.search(text):  # the account the configuration is applied with, alone or in an ARN
        return Party(shown, inside="its account is data.aws_caller_identity's: the scanned account")
    target = referenced_by_text(text, near, infra)
    if target is not None:
        return _party_of_placement(f"{shown} ({target.describe()})", placement(target, infra), home, policy)
    if is_unrendered(text) or text.startswith("module.") or _REFERENCE.match(text):
        reason = getattr(value, "reason", "") or getattr(unwrap(value), "reason", "")
        because = f" ({reason})" if reason else ""
        return Party(shown, unresolved=f"{what} of {near.address} could not be evaluated{because}; {FIX}")
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
                                   f"ID, an ARN with an account, or a resource of this configuration); {FIX}")


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
    if mode:
        return None  # a data source reads something outside this configuration
    found = infra.declared(near.root_dir, near.module, kind, name)
    return found[0] if len(found) == 1 else None
