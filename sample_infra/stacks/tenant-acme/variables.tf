variable "region" {
  description = "Home region of the tenant; set in terraform.tfvars."
  type        = string
}

variable "account_id" {
  description = "AWS account that hosts acme's workload."
  type        = string
  default     = "222222222222"
}

variable "environment" {
  description = "Deployment environment."
  type        = string
  default     = "prod"
}

variable "organization_id" {
  description = "The AWS Organizations ID (policy_map.yaml: organization.id)."
  type        = string
  default     = "o-acmecorp01"
}

variable "collections_agency_account_id" {
  description = "The collections agency's AWS account (a third party)."
  type        = string
  default     = "555555555555"
}
