variable "account_id" {
  description = "AWS account that hosts globex's workload."
  type        = string
  default     = "333333333333"
}

# Set in globex.auto.tfvars.
variable "name_prefix" {
  description = "Prefix of globex's resource names."
  type        = string
}

# Set in globex.auto.tfvars.
variable "environment" {
  description = "Deployment environment."
  type        = string
}

# Set in globex.auto.tfvars.
variable "partner_feeds_data_class" {
  description = "Data class of the partner feed bucket (agreed with globex's data protection officer)."
  type        = string
}
