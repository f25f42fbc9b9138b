variable "region" {
  description = "Region of the shared platform."
  type        = string
  default     = "us-east-1"
}

variable "account_id" {
  description = "AWS account of the shared platform."
  type        = string
  default     = "444444444444"
}
