"""The infrastructure model built from checkov's real graph: providers, regions, tags, classes, tenants, accounts,
references; and the address and ARN helpers."""

from __future__ import annotations

import pytest

from data_handling.model.addresses import address_matches, split_address, strip_instance_key
from data_handling.model.arn import parse_arn
from data_handling.model.classification import classify, normalise_class, tenant_of
from data_handling.model.infrastructure import Infrastructure, region_of_arn, region_value
from data_handling.model.values import Known, Unknown, as_text, is_unrendered, unwrap
from data_handling.policy.loader import parse

EU_AND_US = """
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}
"""
BUCKET = 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n'


def resource(infra: Infrastructure, address: str):
    found = [r for r in infra.resources if r.address == address]
    assert len(found) == 1, f"{address} not in {[r.address for r in infra.resources]}"
    return found[0]


def region(infra: Infrastructure, address: str) -> str:
    resolved = infra.region_of(resource(infra, address))
    assert isinstance(resolved, Known), resolved
    return resolved.value


def unknown_region(infra: Infrastructure, address: str) -> str:
    resolved = infra.region_of(resource(infra, address))
    assert isinstance(resolved, Unknown), resolved
    return resolved.reason


def policy_of(text: str = "version: 1\n"):
    policy, _ = parse(text, "pm.yaml")
    return policy


def refs(infra: Infrastructure, address: str) -> set[tuple[str, str]]:
    return {(label, target.address) for label, target in resource(infra, address).references}


# --- region: where it comes from ----------------------------------------------------------------------------


def test_region_from_provider_literal(model_of):
    infra = model_of({"main.tf": 'provider "aws" {\n  region = "eu-west-1"\n}\n' + BUCKET})
    resolved = infra.region_of(resource(infra, "aws_s3_bucket.b"))
    assert resolved == Known("eu-west-1", 'provider "aws" (main.tf:1)')


def test_region_from_variable_default(model_of):
    infra = model_of({"main.tf": """
        variable "region" {
          default = "eu-central-1"
        }
        provider "aws" {
          region = var.region
        }
        """ + BUCKET})
    assert region(infra, "aws_s3_bucket.b") == "eu-central-1"


def test_region_from_terraform_tfvars(model_of):
    infra = model_of({
        "main.tf": 'variable "region" {\n  type = string\n}\nprovider "aws" {\n  region = var.region\n}\n' + BUCKET,
        "terraform.tfvars": 'region = "us-east-2"\n',
    })
    assert region(infra, "aws_s3_bucket.b") == "us-east-2"


def test_region_from_auto_tfvars_overrides_default(model_of):
    infra = model_of({
        "main.tf": 'variable "region" {\n  default = "eu-central-1"\n}\nprovider "aws" {\n  region = var.region\n}\n'
                   + BUCKET,
        "prod.auto.tfvars": 'region = "ap-south-1"\n',
    })
    assert region(infra, "aws_s3_bucket.b") == "ap-south-1"


def test_auto_tfvars_override_terraform_tfvars(model_of):
    infra = model_of({
        "main.tf": 'variable "region" {\n  default = "eu-central-1"\n}\nprovider "aws" {\n  region = var.region\n}\n'
                   + BUCKET,
        "terraform.tfvars": 'region = "us-east-2"\n',
        "z.auto.tfvars": 'region = "ap-south-1"\n',
    })
    assert region(infra, "aws_s3_bucket.b") == "ap-south-1"


def test_region_from_locals(model_of):
    infra = model_of({"main.tf": """
        locals {
          region = "eu-north-1"
        }
        provider "aws" {
          region = local.region
        }
        """ + BUCKET})
    assert region(infra, "aws_s3_bucket.b") == "eu-north-1"


def test_resource_region_argument_overrides_provider(model_of):
    infra = model_of({"main.tf": EU_AND_US + """
        variable "r" {
          default = "sa-east-1"
        }
        resource "aws_s3_bucket" "literal" {
          bucket = "x"
          region = "us-west-2"
        }
        resource "aws_s3_bucket" "from_var" {
          provider = aws.us
          bucket   = "y"
          region   = var.r
        }
        """})
    resolved = infra.region_of(resource(infra, "aws_s3_bucket.literal"))
    assert isinstance(resolved, Known) and resolved.value == "us-west-2"
    assert "region argument of aws_s3_bucket.literal" in resolved.source
    assert region(infra, "aws_s3_bucket.from_var") == "sa-east-1"


def test_null_region_argument_falls_back_to_provider(model_of):
    infra = model_of({"main.tf": EU_AND_US + """
        resource "aws_s3_bucket" "b" {
          provider = aws.us
          bucket   = "x"
          region   = null
        }
        """})
    assert region(infra, "aws_s3_bucket.b") == "us-east-1"


def test_provider_alias(model_of):
    infra = model_of({"main.tf": EU_AND_US + """
        resource "aws_s3_bucket" "us" {
          provider = aws.us
          bucket   = "x"
        }
        resource "aws_s3_bucket" "eu" {
          bucket = "y"
        }
        """})
    resolved = infra.region_of(resource(infra, "aws_s3_bucket.us"))
    assert isinstance(resolved, Known) and resolved.value == "us-east-1"
    assert resolved.source.startswith('provider "aws.us"')
    assert region(infra, "aws_s3_bucket.eu") == "eu-west-1"


def test_provider_passed_into_module(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            module "store" {
              source    = "./modules/store"
              providers = { aws = aws.us }
            }
            """,
        "modules/store/main.tf": BUCKET,
    })
    resolved = infra.region_of(resource(infra, "module.store.aws_s3_bucket.b"))
    assert isinstance(resolved, Known) and resolved.value == "us-east-1"
    assert "module.store providers { aws = aws.us }" in resolved.source


def test_provider_from_root_variable_passed_into_module(model_of):
    infra = model_of({
        "main.tf": """
            variable "home" {
              default = "eu-west-3"
            }
            provider "aws" {
              alias  = "home"
              region = var.home
            }
            module "m" {
              source    = "./modules/m"
              providers = { aws = aws.home }
            }
            """,
        "modules/m/main.tf": BUCKET,
    })
    assert region(infra, "module.m.aws_s3_bucket.b") == "eu-west-3"


def test_provider_block_inside_module_from_module_inputs(model_of):
    infra = model_of({
        "main.tf": """
            module "eu" {
              source = "./modules/legacy"
              region = "eu-west-1"
            }
            module "us" {
              source = "./modules/legacy"
              region = "us-east-1"
            }
            """,
        "modules/legacy/main.tf": 'variable "region" {\n  type = string\n}\n'
                                  'provider "aws" {\n  region = var.region\n}\n' + BUCKET,
    })
    assert region(infra, "module.eu.aws_s3_bucket.b") == "eu-west-1"
    assert region(infra, "module.us.aws_s3_bucket.b") == "us-east-1"


def test_same_module_source_with_two_providers(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            module "eu" {
              source = "./modules/store"
            }
            module "us" {
              source    = "./modules/store"
              providers = { aws = aws.us }
            }
            """,
        "modules/store/main.tf": BUCKET,
    })
    assert region(infra, "module.eu.aws_s3_bucket.b") == "eu-west-1"
    assert region(infra, "module.us.aws_s3_bucket.b") == "us-east-1"


@pytest.mark.parametrize("inner_providers", ["providers = { aws = aws }", ""], ids=["explicit", "inherited"])
def test_provider_at_depth_two(model_of, inner_providers):
    infra = model_of({
        "main.tf": EU_AND_US + """
            module "outer" {
              source    = "./modules/outer"
              providers = { aws = aws.us }
            }
            """,
        "modules/outer/main.tf": f'module "inner" {{\n  source = "../inner"\n  {inner_providers}\n}}\n',
        "modules/inner/main.tf": BUCKET,
    })
    resolved = infra.region_of(resource(infra, "module.outer.module.inner.aws_s3_bucket.b"))
    assert isinstance(resolved, Known) and resolved.value == "us-east-1"
    assert "module.outer providers { aws = aws.us }" in resolved.source




def test_aliased_key_in_providers_map(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            module "dr" {
              source    = "./modules/dr"
              providers = { aws = aws, aws.replica = aws.us }
            }
            """,
        "modules/dr/main.tf": """
            terraform {
              required_providers {
                aws = {
                  source                = "hashicorp/aws"
                  configuration_aliases = [aws.replica]
                }
              }
            }
            resource "aws_s3_bucket" "primary" {
              bucket = "p"
            }
            resource "aws_s3_bucket" "replica" {
              provider = aws.replica
              bucket   = "r"
            }
            """,
    })
    assert region(infra, "module.dr.aws_s3_bucket.primary") == "eu-west-1"
    assert region(infra, "module.dr.aws_s3_bucket.replica") == "us-east-1"


def test_aliased_provider_renamed_at_depth_two(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            module "outer" {
              source    = "./modules/outer"
              providers = { aws = aws, aws.replica = aws.us }
            }
            """,
        "modules/outer/main.tf": """
            terraform {
              required_providers {
                aws = {
                  source                = "hashicorp/aws"
                  configuration_aliases = [aws.replica]
                }
              }
            }
            module "inner" {
              source    = "../inner"
              providers = { aws = aws.replica }
            }
            """,
        "modules/inner/main.tf": BUCKET,
    })
    assert region(infra, "module.outer.module.inner.aws_s3_bucket.b") == "us-east-1"


def test_for_each_and_count_module_instances(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            module "m" {
              source    = "./modules/store"
              for_each  = toset(["a", "b.c"])
              providers = { aws = aws.us }
            }
            module "n" {
              source = "./modules/store"
              count  = 2
            }
            """,
        "modules/store/main.tf": BUCKET,
    })
    assert {r.address for r in infra.resources} == {
        'module.m["a"].aws_s3_bucket.b', 'module.m["b.c"].aws_s3_bucket.b',
        "module.n[0].aws_s3_bucket.b", "module.n[1].aws_s3_bucket.b",
    }
    assert region(infra, 'module.m["a"].aws_s3_bucket.b') == "us-east-1"
    assert region(infra, 'module.m["b.c"].aws_s3_bucket.b') == "us-east-1"
    assert region(infra, "module.n[0].aws_s3_bucket.b") == "eu-west-1"
    assert resource(infra, 'module.m["a"].aws_s3_bucket.b').module == 'module.m["a"]'


def test_nested_module_inside_for_each_instance(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            module "m" {
              source    = "./modules/outer"
              for_each  = toset(["x"])
              providers = { aws = aws.us }
            }
            """,
        "modules/outer/main.tf": 'module "inner" {\n  source = "../inner"\n  count  = 1\n}\n',
        "modules/inner/main.tf": BUCKET,
    })
    assert region(infra, 'module.m["x"].module.inner[0].aws_s3_bucket.b') == "us-east-1"


def test_count_resource_instances(model_of):
    infra = model_of({"main.tf": EU_AND_US + """
        resource "aws_s3_bucket" "c" {
          count    = 2
          provider = aws.us
          bucket   = "x"
        }
        """})
    assert region(infra, "aws_s3_bucket.c[0]") == "us-east-1"
    assert region(infra, "aws_s3_bucket.c[1]") == "us-east-1"


# --- region: Unknown, never guessed -------------------------------------------------------------------------


def test_providers_map_without_the_default_provider(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            module "m" {
              source    = "./modules/store"
              providers = { aws.other = aws.us }
            }
            """,
        "modules/store/main.tf": """
            terraform {
              required_providers {
                aws = {
                  source                = "hashicorp/aws"
                  configuration_aliases = [aws.other]
                }
              }
            }
            """ + BUCKET,
    })
    reason = unknown_region(infra, "module.m.aws_s3_bucket.b")
    assert "module.m (main.tf:" in reason
    assert 'passes a providers map without "aws"' in reason
    assert "set the region in the provider block" in reason


def test_aliased_provider_not_passed(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + 'module "m" {\n  source = "./modules/store"\n}\n',
        "modules/store/main.tf": 'resource "aws_s3_bucket" "b" {\n  provider = aws.eu\n  bucket   = "x"\n}\n',
    })
    reason = unknown_region(infra, "module.m.aws_s3_bucket.b")
    assert 'provider "aws.eu" is not passed into module.m' in reason


def test_aliased_provider_not_configured_in_root(model_of):
    infra = model_of({"main.tf": EU_AND_US + """
        resource "aws_s3_bucket" "b" {
          provider = aws.ap
          bucket   = "x"
        }
        """})
    assert 'provider "aws.ap" is not configured in the root module' in unknown_region(infra, "aws_s3_bucket.b")


def test_no_provider_block(model_of):
    infra = model_of({"main.tf": BUCKET})
    reason = unknown_region(infra, "aws_s3_bucket.b")
    assert 'no "aws" provider block' in reason and "environment" in reason
    assert "scan the plan" in reason


def test_provider_without_region(model_of):
    infra = model_of({"main.tf": 'provider "aws" {\n  profile = "x"\n}\n' + BUCKET})
    reason = unknown_region(infra, "aws_s3_bucket.b")
    assert 'provider "aws" (main.tf:1) sets no region' in reason


def test_region_variable_without_value(model_of):
    infra = model_of({"main.tf": """
        variable "region" {
          type = string
        }
        provider "aws" {
          region = var.region
        }
        """ + BUCKET})
    reason = unknown_region(infra, "aws_s3_bucket.b")
    assert "var.region" in reason and "could not be evaluated" in reason
    assert "terraform.tfvars" in reason


@pytest.mark.parametrize("value", ["westeurope", "EU-WEST-1", "moon-1"])
def test_region_that_is_not_a_region_name(model_of, value):
    infra = model_of({"main.tf": f'provider "aws" {{\n  region = "{value}"\n}}\n' + BUCKET})
    reason = unknown_region(infra, "aws_s3_bucket.b")
    assert f"{value!r}" in reason and "not an AWS region name" in reason


def test_region_value_helper():
    assert region_value([" eu-west-1 "], "here") == Known("eu-west-1", "here")
    assert isinstance(region_value(["${var.r}"], "here"), Unknown)
    assert isinstance(region_value([None], "here"), Unknown)
    assert isinstance(region_value([["eu-west-1", "us-east-1"]], "here"), Unknown)
    assert "not an AWS region name" in region_value("eu-west", "here").reason


# --- classification ------------------------------------------------------------------------------------------

CLASS_PROVIDERS = """
provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = {
      data_class = "restricted"
      tenant     = "acme"
    }
  }
}

provider "aws" {
  alias  = "plain"
  region = "eu-west-1"
}

provider "aws" {
  alias  = "conf"
  region = "us-east-1"
  default_tags {
    tags = {
      data_class = "Confidential"
    }
  }
}
"""


RULE = "version: 1\nclassification:\n  rules:\n    - {{match: 'aws_s3_bucket.orders*', class: {cls}}}\n"


def classes(infra, address, policy):
    result = classify(resource(infra, address), infra, policy)
    return result


def test_class_from_resource_tags(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        resource "aws_s3_bucket" "b" {
          provider = aws.plain
          bucket   = "x"
          tags     = { data_class = "internal" }
        }
        """})
    result = classes(infra, "aws_s3_bucket.b", policy_of())
    assert result.effective == "internal" and result.problems == ()
    assert "tags of aws_s3_bucket.b" in result.deciding.source


def test_class_from_provider_default_tags(model_of):
    infra = model_of({
        "main.tf": CLASS_PROVIDERS + """
            resource "aws_s3_bucket" "b" {
              provider = aws.conf
              bucket   = "x"
            }
            module "store" {
              source    = "./modules/store"
              providers = { aws = aws.conf }
            }
            module "inherits" {
              source = "./modules/store"
            }
            """,
        "modules/store/main.tf": BUCKET,
    })
    policy = policy_of()
    result = classes(infra, "aws_s3_bucket.b", policy)
    assert result.effective == "confidential"
    assert 'default_tags of provider "aws.conf"' in result.deciding.source
    in_module = classes(infra, "module.store.aws_s3_bucket.b", policy)
    assert in_module.effective == "confidential"
    assert "module.store providers { aws = aws.conf }" in in_module.deciding.source
    assert classes(infra, "module.inherits.aws_s3_bucket.b", policy).effective == "restricted"


def test_most_sensitive_wins_over_a_lower_tag(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        resource "aws_s3_bucket" "b" {
          bucket = "x"
          tags   = { data_class = "internal" }
        }
        """})
    result = classes(infra, "aws_s3_bucket.b", policy_of())
    assert result.effective == "restricted"
    assert {d.data_class for d in result.declarations} == {"internal", "restricted"}
    assert "default_tags" in result.deciding.source
    assert result.at_least("confidential") and result.at_least("restricted")


def test_tag_is_not_downgraded_by_a_rule(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        resource "aws_s3_bucket" "orders_eu" {
          provider = aws.plain
          bucket   = "x"
          tags     = { data_class = "restricted" }
        }
        """})
    policy = policy_of(RULE.format(cls="internal"))
    result = classes(infra, "aws_s3_bucket.orders_eu", policy)
    assert result.effective == "restricted"
    assert {d.data_class for d in result.declarations} == {"internal", "restricted"}


def test_rule_is_not_downgraded_by_a_tag(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        resource "aws_s3_bucket" "orders_eu" {
          provider = aws.plain
          bucket   = "x"
          tags     = { data_class = "public" }
        }
        """})
    policy = policy_of(RULE.format(cls="confidential"))
    result = classes(infra, "aws_s3_bucket.orders_eu", policy)
    assert result.effective == "confidential"
    assert 'classification rule "aws_s3_bucket.orders*"' in result.deciding.source


@pytest.mark.parametrize("value", ["Confidential ", " CONFIDENTIAL", "confidential", "\tConfidential"])
def test_class_values_are_trimmed_and_case_insensitive(model_of, value):
    infra = model_of({"main.tf": CLASS_PROVIDERS + f"""
        resource "aws_s3_bucket" "b" {{
          provider = aws.plain
          bucket   = "x"
          tags     = {{ data_class = "{value}" }}
        }}
        """})
    result = classes(infra, "aws_s3_bucket.b", policy_of())
    assert result.effective == "confidential" and result.problems == ()


def test_invalid_class_value_is_a_problem(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        resource "aws_s3_bucket" "b" {
          provider = aws.plain
          bucket   = "x"
          tags     = { data_class = "secret" }
        }
        resource "aws_s3_bucket" "c" {
          bucket = "x"
          tags   = { data_class = "top-secret" }
        }
        """})
    policy = policy_of()
    result = classes(infra, "aws_s3_bucket.b", policy)
    assert result.declarations == () and result.effective is None
    assert len(result.problems) == 1
    assert 'data_class = "secret"' in result.problems[0] and "is not one of public" in result.problems[0]
    # A valid declaration elsewhere does not hide the invalid one.
    other = classes(infra, "aws_s3_bucket.c", policy)
    assert other.effective == "restricted"
    assert any("top-secret" in problem for problem in other.problems)


def test_unrendered_class_tag_is_a_problem(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        variable "cls" {
          type = string
        }
        resource "aws_s3_bucket" "b" {
          provider = aws.plain
          bucket   = "x"
          tags     = { data_class = var.cls }
        }
        """})
    result = classes(infra, "aws_s3_bucket.b", policy_of())
    assert result.declarations == ()
    assert any("could not be evaluated" in problem for problem in result.problems)


def test_default_does_not_apply_over_an_invalid_declaration(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        resource "aws_s3_bucket" "b" {
          provider = aws.plain
          bucket   = "x"
          tags     = { data_class = "restriced" }
        }
        """})
    result = classes(infra, "aws_s3_bucket.b", policy_of("version: 1\nclassification:\n  default: public\n"))
    assert result.problems
    assert result.effective != "public"


def test_rule_glob_on_module_address(model_of):
    infra = model_of({
        "main.tf": CLASS_PROVIDERS + """
            module "payments" {
              source    = "./modules/store"
              providers = { aws = aws.plain }
            }
            module "payments_eu" {
              source    = "./modules/store"
              providers = { aws = aws.plain }
            }
            module "shards" {
              source    = "./modules/store"
              for_each  = toset(["a"])
              providers = { aws = aws.plain }
            }
            """,
        "modules/store/main.tf": BUCKET,
    })
    policy = policy_of("""
version: 1
classification:
  rules:
    - {match: "module.payments.*", class: restricted}
    - {match: "module.shards.*", class: confidential}
""")
    result = classes(infra, "module.payments.aws_s3_bucket.b", policy)
    assert result.effective == "restricted"
    assert result.deciding.source == 'classification rule "module.payments.*" of the policy map'
    assert classes(infra, "module.payments_eu.aws_s3_bucket.b", policy).effective is None
    assert classes(infra, 'module.shards["a"].aws_s3_bucket.b', policy).effective == "confidential"


def test_default_applies_only_when_nothing_is_declared(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        resource "aws_s3_bucket" "none" {
          provider = aws.plain
          bucket   = "x"
        }
        resource "aws_s3_bucket" "declared" {
          provider = aws.plain
          bucket   = "y"
          tags     = { data_class = "public" }
        }
        """})
    policy = policy_of("version: 1\nclassification:\n  default: confidential\n")
    none = classes(infra, "aws_s3_bucket.none", policy)
    assert none.declarations == () and none.effective == "confidential" and none.deciding is None
    declared = classes(infra, "aws_s3_bucket.declared", policy)
    assert declared.effective == "public"
    assert classes(infra, "aws_s3_bucket.none", policy_of()).effective is None


def test_multiple_tag_keys(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        locals {
          common = { owner = "team" }
        }
        resource "aws_s3_bucket" "one" {
          provider = aws.plain
          bucket   = "x"
          tags     = merge(local.common, { classification = "Internal" })
        }
        resource "aws_s3_bucket" "both" {
          provider = aws.plain
          bucket   = "y"
          tags     = { classification = "public", sensitivity = "confidential" }
        }
        resource "aws_s3_bucket" "other_key" {
          provider = aws.plain
          bucket   = "z"
          tags     = { data_class = "restricted" }
        }
        """})
    policy = policy_of("version: 1\nclassification:\n  tag_keys: [classification, sensitivity]\n")
    assert classes(infra, "aws_s3_bucket.one", policy).effective == "internal"
    both = classes(infra, "aws_s3_bucket.both", policy)
    assert both.effective == "confidential" and len(both.declarations) == 2
    assert classes(infra, "aws_s3_bucket.other_key", policy).effective is None


def test_unresolved_provider_is_a_problem_when_nothing_is_declared(model_of):
    # An alias that is not configured: its default_tags, if any, cannot be read.
    infra = model_of({"main.tf": 'resource "aws_s3_bucket" "b" {\n  provider = aws.nowhere\n  bucket = "x"\n}\n'})
    result = classes(infra, "aws_s3_bucket.b", policy_of())
    assert result.effective is None
    assert any("cannot be resolved" in problem for problem in result.problems)


def test_no_provider_block_has_no_default_tags(tmp_path):
    # Terraform's implicit, empty provider configuration: the region is unknown, the class is not.
    from conftest import build_model, write_tree

    infra = build_model(write_tree(tmp_path, {"main.tf": BUCKET}))
    result = classes(infra, "aws_s3_bucket.b", policy_of("version: 1\nclassification:\n  default: internal\n"))
    assert result.problems == () and result.effective == "internal"


def test_normalise_class():
    assert normalise_class([" Restricted "]) == "restricted"
    assert normalise_class("PUBLIC") == "public"
    assert normalise_class("secret") is None
    assert normalise_class(None) is None
    assert normalise_class(True) is None


# --- tenant --------------------------------------------------------------------------------------------------


def test_tenant_resource_tag_wins_over_default_tags(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        resource "aws_s3_bucket" "tagged" {
          bucket = "x"
          tags   = { tenant = " Globex " }
        }
        resource "aws_s3_bucket" "inherits" {
          bucket = "y"
        }
        resource "aws_s3_bucket" "none" {
          provider = aws.plain
          bucket   = "z"
        }
        """})
    policy = policy_of()
    tagged = tenant_of(resource(infra, "aws_s3_bucket.tagged"), infra, policy)
    assert isinstance(tagged, Known) and tagged.value == "Globex"
    assert "tags of aws_s3_bucket.tagged" in tagged.source
    inherited = tenant_of(resource(infra, "aws_s3_bucket.inherits"), infra, policy)
    assert isinstance(inherited, Known) and inherited.value == "acme"
    assert "default_tags" in inherited.source
    assert tenant_of(resource(infra, "aws_s3_bucket.none"), infra, policy) is None


def test_tenant_tag_key_from_policy(model_of):
    infra = model_of({"main.tf": CLASS_PROVIDERS + """
        variable "who" {
          type = string
        }
        resource "aws_s3_bucket" "b" {
          provider = aws.plain
          bucket   = "x"
          tags     = { customer = "initech", tenant = "acme" }
        }
        resource "aws_s3_bucket" "c" {
          provider = aws.plain
          bucket   = "y"
          tags     = { customer = var.who }
        }
        """})
    policy = policy_of("version: 1\nresidency:\n  tenant_tag_key: customer\n")
    found = tenant_of(resource(infra, "aws_s3_bucket.b"), infra, policy)
    assert isinstance(found, Known) and found.value == "initech"
    unknown = tenant_of(resource(infra, "aws_s3_bucket.c"), infra, policy)
    assert isinstance(unknown, Unknown) and "could not be evaluated" in unknown.reason


# --- account -------------------------------------------------------------------------------------------------


def test_account_of(model_of):
    infra = model_of({"main.tf": """
        provider "aws" {
          region              = "eu-west-1"
          allowed_account_ids = ["012345678901", "111111111111"]
        }
        provider "aws" {
          alias               = "number"
          region              = "eu-west-1"
          allowed_account_ids = [012345678901]
        }
        provider "aws" {
          alias  = "role"
          region = "us-east-1"
          assume_role {
            role_arn = "arn:aws:iam::222222222222:role/deploy"
          }
        }
        provider "aws" {
          alias  = "none"
          region = "us-east-1"
        }
        resource "aws_s3_bucket" "allowed" {
          bucket = "a"
        }
        resource "aws_s3_bucket" "number" {
          provider = aws.number
          bucket   = "b"
        }
        resource "aws_s3_bucket" "role" {
          provider = aws.role
          bucket   = "c"
        }
        resource "aws_s3_bucket" "none" {
          provider = aws.none
          bucket   = "d"
        }
        resource "aws_s3_bucket" "missing" {
          provider = aws.nowhere
          bucket   = "e"
        }
        """})
    allowed = infra.account_of(resource(infra, "aws_s3_bucket.allowed"))
    assert isinstance(allowed, Known) and allowed.value == frozenset({"012345678901", "111111111111"})
    assert "allowed_account_ids" in allowed.source
    number = infra.account_of(resource(infra, "aws_s3_bucket.number"))
    assert isinstance(number, Known) and number.value == frozenset({"012345678901"})
    role = infra.account_of(resource(infra, "aws_s3_bucket.role"))
    assert isinstance(role, Known) and role.value == frozenset({"222222222222"})
    assert "assume_role" in role.source
    none = infra.account_of(resource(infra, "aws_s3_bucket.none"))
    assert isinstance(none, Unknown) and "neither allowed_account_ids nor assume_role" in none.reason
    assert isinstance(infra.account_of(resource(infra, "aws_s3_bucket.missing")), Unknown)


def test_account_of_provider_passed_into_module(model_of):
    infra = model_of({
        "main.tf": """
            provider "aws" {
              alias  = "central"
              region = "eu-west-1"
              assume_role {
                role_arn = "arn:aws:iam::111111111111:role/deploy"
              }
            }
            module "sink" {
              source    = "./modules/sink"
              providers = { aws = aws.central }
            }
            """,
        "modules/sink/main.tf": BUCKET,
    })
    account = infra.account_of(resource(infra, "module.sink.aws_s3_bucket.b"))
    assert isinstance(account, Known) and account.value == frozenset({"111111111111"})


# --- references ----------------------------------------------------------------------------------------------


def test_direct_references(model_of):
    infra = model_of({"main.tf": EU_AND_US + """
        resource "aws_s3_bucket" "a" {
          bucket = "a"
        }
        resource "aws_s3_bucket" "dst" {
          provider = aws.us
          bucket   = "d"
        }
        resource "aws_s3_bucket_replication_configuration" "r" {
          bucket = aws_s3_bucket.a.id
          role   = "arn:aws:iam::111111111111:role/r"
          rule {
            id     = "all"
            status = "Enabled"
            destination {
              bucket = aws_s3_bucket.dst.arn
            }
          }
        }
        locals {
          target = aws_s3_bucket.dst.arn
        }
        resource "aws_sns_topic" "t" {
          name   = "t"
          policy = local.target
        }
        """})
    assert refs(infra, "aws_s3_bucket_replication_configuration.r") == {
        ("bucket", "aws_s3_bucket.a"), ("rule.destination.bucket", "aws_s3_bucket.dst"),
    }
    assert refs(infra, "aws_sns_topic.t") == {("policy", "aws_s3_bucket.dst")}
    assert refs(infra, "aws_s3_bucket.a") == set()
    _, target = resource(infra, "aws_sns_topic.t").references[0]
    assert target is resource(infra, "aws_s3_bucket.dst")


def test_reference_to_module_output(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            module "store" {
              source = "./modules/store"
            }
            resource "aws_s3_bucket_policy" "p" {
              bucket = module.store.id
              policy = "{}"
            }
            resource "aws_sns_topic" "t" {
              name   = "t"
              policy = module.store.arn
            }
            """,
        "modules/store/main.tf": """
            resource "aws_s3_bucket" "this" {
              bucket = "x"
            }
            output "arn" {
              value = aws_s3_bucket.this.arn
            }
            output "id" {
              value = aws_s3_bucket.this.id
            }
            """,
    })
    assert refs(infra, "aws_s3_bucket_policy.p") == {("bucket", "module.store.aws_s3_bucket.this")}
    assert refs(infra, "aws_sns_topic.t") == {("policy", "module.store.aws_s3_bucket.this")}


def test_reference_through_module_input_variable(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            resource "aws_s3_bucket" "a" {
              bucket = "a"
            }
            resource "aws_s3_bucket" "unused" {
              bucket = "u"
            }
            module "policy" {
              source = "./modules/policy"
              target = aws_s3_bucket.a.id
              other  = aws_s3_bucket.unused.id
            }
            """,
        "modules/policy/main.tf": """
            variable "target" {
              type = string
            }
            variable "other" {
              type = string
            }
            resource "aws_s3_bucket_policy" "p" {
              bucket = var.target
              policy = "{}"
            }
            """,
    })
    assert refs(infra, "module.policy.aws_s3_bucket_policy.p") == {("bucket", "aws_s3_bucket.a")}


def test_two_module_inputs_keep_their_attribute_labels(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            resource "aws_s3_bucket" "src" {
              bucket = "s"
            }
            resource "aws_s3_bucket" "dst" {
              bucket = "d"
            }
            module "rep" {
              source          = "./modules/rep"
              source_bucket   = aws_s3_bucket.src.id
              destination_arn = aws_s3_bucket.dst.arn
            }
            """,
        "modules/rep/main.tf": """
            variable "source_bucket" {
              type = string
            }
            variable "destination_arn" {
              type = string
            }
            resource "aws_s3_bucket_replication_configuration" "this" {
              bucket = var.source_bucket
              role   = "arn:aws:iam::111111111111:role/r"
              rule {
                id     = "all"
                status = "Enabled"
                destination {
                  bucket = var.destination_arn
                }
              }
            }
            """,
    })
    assert refs(infra, "module.rep.aws_s3_bucket_replication_configuration.this") == {
        ("bucket", "aws_s3_bucket.src"), ("rule.destination.bucket", "aws_s3_bucket.dst"),
    }


def test_references_to_two_calls_of_one_module_source(model_of):
    infra = model_of({
        "main.tf": EU_AND_US + """
            module "src" {
              source = "./modules/bucket"
            }
            module "dst" {
              source = "./modules/bucket"
            }
            resource "aws_s3_bucket_policy" "p" {
              bucket = module.src.id
              policy = "{}"
            }
            resource "aws_s3_bucket_policy" "q" {
              bucket = module.dst.id
              policy = "{}"
            }
            """,
        "modules/bucket/main.tf": """
            resource "aws_s3_bucket" "this" {
              bucket = "x"
            }
            output "id" {
              value = aws_s3_bucket.this.id
            }
            """,
    })
    assert refs(infra, "aws_s3_bucket_policy.p") == {("bucket", "module.src.aws_s3_bucket.this")}
    assert refs(infra, "aws_s3_bucket_policy.q") == {("bucket", "module.dst.aws_s3_bucket.this")}


def test_two_attributes_referring_to_one_resource(model_of):
    infra = model_of({"main.tf": EU_AND_US + """
        resource "aws_s3_bucket" "a" {
          bucket = "a"
        }
        resource "aws_s3_bucket_logging" "l" {
          bucket        = aws_s3_bucket.a.id
          target_bucket = aws_s3_bucket.a.id
          target_prefix = "log/"
        }
        """})
    assert refs(infra, "aws_s3_bucket_logging.l") == {
        ("bucket", "aws_s3_bucket.a"), ("target_bucket", "aws_s3_bucket.a"),
    }


# --- finding a resource from checkov's conf ---------------------------------------------------------------------


def test_resource_for_configuration(model_of):
    infra = model_of({"main.tf": EU_AND_US + BUCKET})
    bucket = resource(infra, "aws_s3_bucket.b")
    assert infra.resource_for(bucket.config) is bucket
    assert infra.resource_for({"__address__": "aws_s3_bucket.b"}, "/main.tf") is bucket
    assert infra.resource_for({"__address__": "aws_s3_bucket.nope"}) is None


# --- addresses -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "parts"),
    [
        ("aws_s3_bucket.b", ["aws_s3_bucket", "b"]),
        ('module.a["x.y"].aws_s3_bucket.b', ["module", 'a["x.y"]', "aws_s3_bucket", "b"]),
        ('module.a["x]y.z"].b[0]', ["module", 'a["x]y.z"]', "b[0]"]),
        ('module.a["k"].module.b[2].aws_s3_bucket.c["v.w"]',
         ["module", 'a["k"]', "module", "b[2]", "aws_s3_bucket", 'c["v.w"]']),
    ],
)
def test_split_address(address, parts):
    assert split_address(address) == parts


def test_strip_instance_key():
    assert strip_instance_key('a["x.y"]') == "a"
    assert strip_instance_key("b[0]") == "b"
    assert strip_instance_key("c") == "c"


@pytest.mark.parametrize(
    ("pattern", "address", "expected"),
    [
        ("module.payments.*", "module.payments.aws_s3_bucket.b", True),
        ("module.payments.*", 'module.payments["eu"].aws_s3_bucket.b', True),
        ("module.payments.*", "module.payments[0].module.inner.aws_s3_bucket.b", True),
        ("module.payments.*", "module.payments_eu.aws_s3_bucket.b", False),
        ("module.payments.*", "module.other.module.payments.aws_s3_bucket.b", False),
        ('module.payments["eu"].*', 'module.payments["eu"].aws_s3_bucket.b', True),
        ('module.payments["eu"].*', 'module.payments["us"].aws_s3_bucket.b', False),
        ("module.payments[*].*", 'module.payments["us"].aws_s3_bucket.b', True),
        ("module.m[0].*", "module.m[0].aws_s3_bucket.b", True),
        ("module.m[0].*", "module.m[1].aws_s3_bucket.b", False),
        ("aws_s3_bucket.orders*", "aws_s3_bucket.orders_eu", True),
        ("aws_s3_bucket.orders*", "aws_s3_bucket.orders[0]", True),
        ("aws_s3_bucket.orders*", "module.m.aws_s3_bucket.orders", False),
        ("aws_s3_bucket.b", 'aws_s3_bucket.b["k.v"]', True),
        ("aws_s3_bucket.?", "aws_s3_bucket.b", True),
        ("aws_s3_bucket.?", "aws_s3_bucket.bb", False),
        ("module.m.aws_s3_bucket.b", 'module.m["a.b"].aws_s3_bucket.b', True),
    ],
)
def test_address_matches(pattern, address, expected):
    assert address_matches(pattern, address) is expected


@pytest.mark.parametrize(
    ("pattern", "address"),
    [('module.a["x"].module.b.*', 'module.a["x"].module.b[0].aws_s3_bucket.c'),
     ("module.a.module.b[0].*", 'module.a["x"].module.b[0].aws_s3_bucket.c')],
)
def test_address_matches_partly_keyed_glob(pattern, address):
    assert address_matches(pattern, address)


# --- ARNs and values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "account"),
    [
        ("arn:aws:rds:eu-central-1:123456789012:db:mydb", "eu-central-1", "123456789012"),
        ("arn:aws:s3:::bucket/key", "", ""),
        ("arn:aws:iam::012345678901:role/deploy", "", "012345678901"),
        ("arn:aws:iam::aws:policy/ReadOnlyAccess", "", "aws"),
        ("arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:/a:*", "us-gov-west-1", "123456789012"),
        ("  arn:aws:sqs:eu-west-1:111111111111:q  ", "eu-west-1", "111111111111"),
    ],
)
def test_parse_arn(text, region, account):
    arn = parse_arn(text)
    assert arn is not None
    assert (arn.region, arn.account) == (region, account)


def test_parse_arn_fields():
    arn = parse_arn("arn:aws:logs:eu-west-1:123456789012:log-group:/app:*")
    assert arn is not None
    assert (arn.partition, arn.service, arn.resource) == ("aws", "logs", "log-group:/app:*")


@pytest.mark.parametrize(
    "text", ["not an arn", "arn:aws:s3:eu-west-1:12345:x", "arn:aws:rds:eu-central-1:123456789012:", "", None, 42],
)
def test_parse_arn_rejects(text):
    assert parse_arn(text) is None


def test_region_of_arn():
    assert region_of_arn("arn:aws:rds:eu-central-1:123456789012:db:mydb") == "eu-central-1"
    assert region_of_arn("arn:aws:s3:::bucket") is None
    assert region_of_arn("bucket") is None


def test_value_helpers():
    assert unwrap(["x"]) == "x"
    assert unwrap([["1", "2"]]) == ["1", "2"]
    assert unwrap(["a", "b"]) == ["a", "b"]
    assert as_text([12]) == "12"
    assert as_text([True]) is None
    assert as_text([{"a": 1}]) is None
    assert is_unrendered("${var.x}") and is_unrendered("var.region") and is_unrendered("lookup(local.m, 1)")
    assert not is_unrendered("eu-west-1") and not is_unrendered(None)


@pytest.mark.parametrize(("written", "expected"), [
    ("merge({},{'tenant': acme, 'data_class': confidential})", {"tenant": "acme", "data_class": "confidential"}),
    ('merge({"a" = "b"}, {c = d})', {"a": "b", "c": "d"}),
    ("merge({'a': 'x'}, {'a': 'y'})", {"a": "y"}),
    ("merge(var.tags, {a = 1})", None),
    ("merge({'a': var.x})", None),
    ("merge({'b': lower(X)})", None),
    ("lower(X)", None),
])
def test_evaluate_merge_of_substituted_map_literals(written, expected):
    from data_handling.model.values import evaluate_merge

    assert evaluate_merge(written) == expected


def test_tags_merged_from_module_variables_classify(model_of):
    infra = model_of({
        "main.tf": """
            provider "aws" {
              region = "eu-west-1"
            }
            module "m" {
              source = "./m"
              tenant = "acme"
            }
            """,
        "m/main.tf": """
            variable "tenant" {}
            variable "data_class" {
              default = "confidential"
            }
            variable "tags" {
              type    = map(string)
              default = {}
            }
            resource "aws_s3_bucket" "this" {
              bucket = "b"
              tags   = merge(var.tags, { tenant = var.tenant, data_class = var.data_class })
            }
            """,
    })
    from data_handling.model.classification import classify, tenant_of
    from data_handling.policy.loader import parse

    policy, _ = parse("version: 1\nresidency: {tenants: {acme: {home_region: eu-west-1}}}", "pm.yaml")
    bucket = next(r for r in infra.resources if r.address == "module.m.aws_s3_bucket.this")
    assert classify(bucket, infra, policy).effective == "confidential"
    assert tenant_of(bucket, infra, policy).value == "acme"
