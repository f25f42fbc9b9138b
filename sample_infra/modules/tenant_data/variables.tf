variable "tenant" {
  description = "Tenant identifier, as listed under residency.tenants in policy_map.yaml (for example \"acme\")."
  type        = string
}

variable "data_class" {
  description = "Data class of every store this module creates: public, internal, confidential or restricted."
  type        = string
  default     = "confidential"

  validation {
    condition     = contains(["public", "internal", "confidential", "restricted"], lower(trimspace(var.data_class)))
    error_message = "data_class must be one of public, internal, confidential or restricted."
  }
}

variable "name_prefix" {
  description = "Prefix for resource names, for example \"acme-prod\". Bucket names must stay globally unique."
  type        = string
}

variable "tags" {
  description = "Extra tags (service, environment, cost centre). tenant and data_class are always set by the module."
  type        = map(string)
  default     = {}
}

variable "order_events_retention_seconds" {
  description = "How long an unconsumed order event stays on the queue."
  type        = number
  default     = 345600 # 4 days
}

variable "audit_log_retention_days" {
  description = "Retention of the tenant's audit log group."
  type        = number
  default     = 400
}
