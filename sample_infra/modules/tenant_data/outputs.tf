output "bucket_name" {
  description = "Name of the tenant's data bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the tenant's data bucket."
  value       = aws_s3_bucket.this.arn
}

output "orders_table_name" {
  description = "Name of the tenant's orders table."
  value       = aws_dynamodb_table.orders.name
}

output "orders_table_arn" {
  description = "ARN of the tenant's orders table."
  value       = aws_dynamodb_table.orders.arn
}

output "order_events_queue_url" {
  description = "URL of the tenant's order-events queue."
  value       = aws_sqs_queue.order_events.url
}

output "kms_key_arn" {
  description = "Customer-managed key protecting the tenant's stores."
  value       = aws_kms_key.this.arn
}

output "audit_log_group_name" {
  description = "Name of the tenant's audit log group."
  value       = module.audit_log.log_group_name
}
