variable "region" {
  description = "Region of the payments account; set in terraform.tfvars."
  type        = string
}

variable "account_id" {
  description = "AWS account that hosts payments."
  type        = string
  default     = "333333333333"
}

variable "environment" {
  description = "Deployment environment."
  type        = string
  default     = "prod"
}
