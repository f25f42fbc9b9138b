output "data_bucket" {
  description = "acme's tenant data bucket."
  value       = module.acme_data.bucket_name
}

output "orders_table" {
  description = "acme's orders table."
  value       = module.acme_data.orders_table_name
}

output "invoices_bucket" {
  description = "acme's invoices bucket."
  value       = aws_s3_bucket.acme_invoices.id
}
