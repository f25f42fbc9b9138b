variable "tenant" {
  description = "Tenant whose access events this log group records."
  type        = string
}

variable "data_class" {
  description = "Data class of the audit log (it names who queried which customer's data)."
  type        = string
  default     = "confidential"
}

variable "name" {
  description = "Log group name, for example \"/saas/acme-prod/audit\"."
  type        = string
}

variable "retention_in_days" {
  description = "Retention of audit events; access reviews need at least a year."
  type        = number
  default     = 400
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the log group (its key policy must allow logs.<region>.amazonaws.com)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Extra tags; tenant and data_class are always set by the module."
  type        = map(string)
  default     = {}
}
