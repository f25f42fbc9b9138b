output "log_group_name" {
  description = "Name of the audit log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the audit log group."
  value       = aws_cloudwatch_log_group.this.arn
}
