output "data_bucket" {
  description = "globex's tenant data bucket."
  value       = module.globex_data.bucket_name
}

output "orders_table" {
  description = "globex's orders table."
  value       = module.globex_data.orders_table_name
}
