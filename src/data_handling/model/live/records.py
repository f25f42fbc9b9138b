"""The records of the live estate: the model's Resource and ProviderBlock, told where they were read.

Each resource is named by its ARN and typed by its Terraform resource type, with a Terraform-shaped
configuration (attribute values wrapped in one-element lists, blocks as lists of dicts, as model/plan_source.py
builds them), so every rule reads it as it reads HCL or a plan. Its region and account come from a provider
configuration per (account, region) standing for the regional endpoint that returned it: region_of and
account_of resolve them as for a plan, with no rule knowing the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from data_handling.model.blocks import UNKNOWN_BLOCKS
from data_handling.model.records import ProviderBlock, Resource
from data_handling.model.values import Unevaluated

ROOT = "aws"  # one root for the whole estate: S3 bucket names and replication destinations span accounts
# What makes a value the audit could not read known: the reason names the call that failed and the IAM action.
LIVE_ADVICE = ("grant the audit's role the read-only action named above (docs/audit-iam-policy.json) and audit "
               "again, or audit the account and region that hold the resource named")


@dataclass(eq=False, slots=True)
class LiveEndpoint(ProviderBlock):
    """The regional endpoint of one account that the resources were read from."""

    account: str = ""
    region: str = ""

    def describe(self) -> str:
        return f"the {self.region} endpoint of account {self.account}"


@dataclass(eq=False, slots=True)
class LiveResource(Resource):
    """A resource read from the AWS APIs; `evidence` names the call that listed it."""

    account: str = ""
    region: str = ""
    evidence: str = ""

    def describe(self) -> str:
        return f"{self.address} (account {self.account}, {self.region})"

    def how_to_know(self, terraform_advice: str) -> str:
        return LIVE_ADVICE


def endpoint(account: str, region: str) -> LiveEndpoint:
    return LiveEndpoint(root_dir=ROOT, module="", local_name=provider_name(account, region),
                        config={"region": [region], "allowed_account_ids": [[account]]}, account=account,
                        region=region)


def provider_name(account: str, region: str) -> str:
    return f"aws.live_{account}_{region}"


def wrap(values: dict[str, Any]) -> dict[str, Any]:
    """Values in the model's shape: attributes in one-element lists, blocks (lists of dicts) wrapped within."""
    config: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue  # Terraform omits a null argument
        if key == UNKNOWN_BLOCKS:
            config[key] = value
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            config[key] = [wrap(item) for item in value]
        else:
            config[key] = [value]
    return config


def unknown(what: str, reason: str) -> Unevaluated:
    """A value the audit could not read: the rules treat it as they treat a value known only after apply."""
    return Unevaluated(f"${{live: {what}}}", reason)


def resource(*, arn: str, resource_type: str, name: str, account: str, region: str, evidence: str,
             values: dict[str, Any]) -> LiveResource:
    config = wrap(values)
    config["__address__"] = arn
    return LiveResource(address=arn, type=resource_type, name=name, root_dir=ROOT, module="", config=config,
                        provider_key=(ROOT, "", provider_name(account, region)), account=account, region=region,
                        evidence=evidence)
