variable "name_prefix" {
  description = "Prefix of every name, such as payments-prod."
  type        = string
}

variable "key_administrators" {
  description = "IAM principals that administer the vault key (and cannot decrypt with it)."
  type        = list(string)
}

variable "key_users" {
  description = "IAM principals that decrypt with the vault key (and cannot administer it)."
  type        = list(string)
}

variable "account_id" {
  description = "Account that owns the vault; its root delegates key access to IAM policies."
  type        = string
}

variable "region" {
  description = "Region of the vault, for the kms:ViaService condition of the key users."
  type        = string
}
