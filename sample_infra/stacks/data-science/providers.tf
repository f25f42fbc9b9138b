# The data-science team's stack, in acme's account and home region: it trains models for product analytics.
provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      owner = "data-science"
    }
  }
}
