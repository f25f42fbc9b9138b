# The central observability account: everything deployed here is a central telemetry destination, because the
# provider's allowed_account_ids is an account listed in telemetry.central.account_ids. Telemetry here is
# aggregated and de-identified, so it is internal data with no tenant.
provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      owner      = "observability"
      data_class = "internal"
    }
  }
}
