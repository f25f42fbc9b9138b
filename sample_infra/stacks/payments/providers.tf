# Payments runs in its own account in eu-west-1 (one of residency.home_regions); it serves every tenant, so its
# default_tags carry no tenant and no class: each store declares its class, and everything created by
# module.payments is Restricted through the policy map rule "module.payments.*".
provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      owner   = "payments"
      service = "payments"
    }
  }
}
