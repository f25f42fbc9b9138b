variable "account_id" {
  description = "The central observability account (policy_map.yaml: telemetry.central.account_ids)."
  type        = string
  default     = "111111111111"
}

variable "tenant_account_ids" {
  description = "Tenant accounts allowed to link to the sink and put events on the central bus."
  type        = list(string)
  default     = ["222222222222", "333333333333"]
}
