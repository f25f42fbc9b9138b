variable "account_id" {
  description = "AWS account that hosts acme's workload (the data-science team works in it)."
  type        = string
  default     = "222222222222"
}

variable "environment" {
  description = "Deployment environment."
  type        = string
  default     = "prod"
}

variable "base_model_id" {
  description = "The Bedrock foundation model the team customises."
  type        = string
  default     = "amazon.titan-text-express-v1"
}
