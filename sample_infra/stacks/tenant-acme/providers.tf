# acme's home region is eu-west-1 (policy_map.yaml: residency.tenants.acme); the value comes from
# terraform.tfvars so the same stack layout can be reused per tenant.
provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      tenant = "acme"
      owner  = "platform"
    }
  }
}

# us-east-1, for what does not have to stay in acme's region (build artifacts, CDN-adjacent assets).
provider "aws" {
  alias               = "us"
  region              = "us-east-1"
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      tenant = "acme"
      owner  = "platform"
    }
  }
}
