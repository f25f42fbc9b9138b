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
