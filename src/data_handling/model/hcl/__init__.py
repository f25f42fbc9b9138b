"""The model's HCL source: the written Terraform, evaluated as `terraform plan` would before apply."""
