# globex's home region is us-east-1 (policy_map.yaml: residency.tenants.globex).
locals {
  region    = "us-east-1"
  eu_region = "eu-west-1"
}

provider "aws" {
  region              = local.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      tenant = "globex"
    }
  }
}

# Provider used for globex's tenant data stores; same region as the default provider, with ownership tags.
provider "aws" {
  alias               = "primary"
  region              = local.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      tenant = "globex"
      owner  = "platform"
    }
  }
}

# eu-west-1, added for a latency experiment for globex's European storefront.
provider "aws" {
  alias               = "eu"
  region              = local.eu_region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      tenant = "globex"
      owner  = "platform"
    }
  }
}
