# Shared services: no tenant and no data_class in default_tags, so every store declares its own class.
provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      owner       = "platform"
      cost_center = "shared-services"
    }
  }
}

# ap-southeast-2, for the APAC support team.
provider "aws" {
  alias               = "apse2"
  region              = "ap-southeast-2"
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      owner       = "platform"
      cost_center = "shared-services"
    }
  }
}
