# Central observability: what the tenants' accounts send here is listed field by field (CKV_DH_301) and holds
# only approved fields (CKV_DH_302); raw logs with identifiers stay in the tenants' accounts (CKV_DH_303).

# --- where telemetry lands -----------------------------------------------------------------------------------

resource "aws_s3_bucket" "telemetry" {
  bucket = "central-telemetry-eu-west-1"
}

resource "aws_s3_bucket_public_access_block" "telemetry" {
  bucket = aws_s3_bucket.telemetry.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "telemetry" {
  bucket = aws_s3_bucket.telemetry.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# API Gateway access logs of every tenant (the tenants' stages log approved fields only).
resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/central/api-access"
  retention_in_days = 400
}

# Cross-account observability: tenant accounts link their metrics here.
resource "aws_oam_sink" "central" {
  name = "central-observability"
}

resource "aws_oam_sink_policy" "central" {
  sink_identifier = aws_oam_sink.central.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = var.tenant_account_ids }
      Action    = ["oam:CreateLink", "oam:UpdateLink"]
      Resource  = "*"
      Condition = { "ForAllValues:StringEquals" = { "oam:ResourceTypes" = ["AWS::CloudWatch::Metric"] } }
    }]
  })
}

resource "aws_cloudwatch_event_bus" "telemetry" {
  name = "central-telemetry"
}

# --- the Glue catalog of central telemetry -------------------------------------------------------------------

resource "aws_glue_catalog_database" "telemetry" {
  name         = "telemetry"
  location_uri = "s3://${aws_s3_bucket.telemetry.bucket}/"
}

# Request counts, latencies and error rates by route and status.
resource "aws_glue_catalog_table" "requests" {
  name          = "requests"
  database_name = aws_glue_catalog_database.telemetry.name
  table_type    = "EXTERNAL_TABLE"

  storage_descriptor {
    location      = "s3://${aws_s3_bucket.telemetry.bucket}/requests/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    columns {
      name = "route"
      type = "string"
    }
    columns {
      name = "status"
      type = "int"
    }
    columns {
      name = "request_count"
      type = "bigint"
    }
    columns {
      name = "latency_ms"
      type = "double"
    }
    columns {
      name = "error_rate"
      type = "double"
    }
    columns {
      name = "timestamp"
      type = "timestamp"
    }
  }

  partition_keys {
    name = "tenant_id"
    type = "string"
  }
}

# Aggregate billing totals by tenant id (not customer id).
resource "aws_glue_catalog_table" "billing" {
  name          = "billing"
  database_name = aws_glue_catalog_database.telemetry.name
  table_type    = "EXTERNAL_TABLE"

  storage_descriptor {
    location = "s3://${aws_s3_bucket.telemetry.bucket}/billing/"

    columns {
      name = "tenant_id"
      type = "string"
    }
    columns {
      name = "billing_total"
      type = "decimal(12,2)"
    }
    columns {
      name = "timestamp"
      type = "timestamp"
    }
  }
}

# VIOLATION CKV_DH_302 aws_glue_catalog_table.webhook_deliveries: breaks "What does not flow centrally: customer emails, names, addresses, order line items, payment tokens, IP addresses." Webhook delivery success rates are kept centrally by endpoint host, not by URL path; the url_path column carries customers' webhook paths (which embed their IDs) and is not on telemetry.approved_fields.
resource "aws_glue_catalog_table" "webhook_deliveries" {
  name          = "webhook_deliveries"
  database_name = aws_glue_catalog_database.telemetry.name
  table_type    = "EXTERNAL_TABLE"

  storage_descriptor {
    location = "s3://${aws_s3_bucket.telemetry.bucket}/webhooks/"

    columns {
      name = "endpoint_host"
      type = "string"
    }
    columns {
      name = "url_path"
      type = "string"
    }
    columns {
      name = "delivery_success_rate"
      type = "double"
    }
    columns {
      name = "timestamp"
      type = "timestamp"
    }
  }
}

# --- the request stream: records converted to the requests table's schema ------------------------------------

resource "aws_kinesis_firehose_delivery_stream" "requests" {
  name        = "central-requests"
  destination = "extended_s3"

  extended_s3_configuration {
    bucket_arn = aws_s3_bucket.telemetry.arn
    role_arn   = "arn:aws:iam::${var.account_id}:role/central-firehose"
    prefix     = "requests/"

    data_format_conversion_configuration {
      input_format_configuration {
        deserializer {
          open_x_json_ser_de {}
        }
      }
      output_format_configuration {
        serializer {
          parquet_ser_de {}
        }
      }
      schema_configuration {
        database_name = aws_glue_catalog_table.requests.database_name
        table_name    = aws_glue_catalog_table.requests.name
        role_arn      = "arn:aws:iam::${var.account_id}:role/central-firehose"
      }
    }
  }
}

# Error rates by route and status, from the tenants' API access logs.
resource "aws_cloudwatch_log_metric_filter" "api_errors" {
  name           = "api-5xx"
  log_group_name = aws_cloudwatch_log_group.api_access.name
  pattern        = "{ $.status = 5* }"

  metric_transformation {
    name      = "error_count"
    namespace = "Central/Api"
    value     = "1"
    dimensions = {
      route  = "$.route"
      status = "$.status"
    }
  }
}
