output "vault_key_arn" {
  description = "ARN of the card vault key."
  value       = aws_kms_key.vault.arn
}

output "processor_api_key_arn" {
  description = "ARN of the processor API key secret."
  value       = aws_secretsmanager_secret.processor_api_key.arn
}
