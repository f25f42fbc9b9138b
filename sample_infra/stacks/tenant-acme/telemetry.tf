# Tenant acme's telemetry. Aggregated, de-identified telemetry goes to the central observability account
# (stacks/observability, account 111111111111); raw logs that carry identifiers stay in acme's account.

locals {
  central_api_access = "arn:aws:logs:eu-west-1:111111111111:log-group:/central/api-access"
  central_bus        = "arn:aws:events:eu-west-1:111111111111:event-bus/central-telemetry"
  central_sink       = "arn:aws:oam:eu-west-1:111111111111:sink/central-observability"
  central_logs       = "arn:aws:logs:eu-west-1:111111111111:destination:central-logs"
  events_role        = "arn:aws:iam::${var.account_id}:role/acme-events-to-central"
}

# --- API access logs -------------------------------------------------------------------------------------------

resource "aws_apigatewayv2_api" "storefront" {
  name          = "${local.name_prefix}-storefront"
  protocol_type = "HTTP"
}

# Central access logs with approved fields only: route, status, latency, time and tenant.
resource "aws_apigatewayv2_stage" "storefront" {
  api_id      = aws_apigatewayv2_api.storefront.id
  name        = "$default"
  auto_deploy = true

  access_log_settings {
    destination_arn = local.central_api_access
    format = jsonencode({
      route      = "$context.routeKey"
      status     = "$context.status"
      latency_ms = "$context.responseLatency"
      timestamp  = "$context.requestTime"
      tenant_id  = "$context.authorizer.tenant_id"
    })
  }
}

# VIOLATION CKV_DH_302 aws_apigatewayv2_stage.checkout: breaks "What does not flow centrally: customer emails, names, addresses, order line items, payment tokens, IP addresses." The stage's central access log format has a "route" key that actually carries $context.path (the URL path, with order IDs in it) and a "client" key carrying $context.identity.sourceIp (the customer's IP address).
# VIOLATION CKV_DH_303 aws_apigatewayv2_stage.checkout: breaks "What does not flow centrally: customer emails, names, addresses, order line items, payment tokens, IP addresses." Its raw access logs carry identity variables ($context.identity.sourceIp, $context.path) into the central account's /central/api-access log group.
resource "aws_apigatewayv2_stage" "checkout" {
  api_id      = aws_apigatewayv2_api.storefront.id
  name        = "checkout"
  auto_deploy = true

  access_log_settings {
    destination_arn = local.central_api_access
    format = jsonencode({
      route      = "$context.path"
      status     = "$context.status"
      latency_ms = "$context.responseLatency"
      client     = "$context.identity.sourceIp"
    })
  }
}

# The partner API logs everything (client IPs included), but into acme's own log group: nothing flows centrally.
resource "aws_cloudwatch_log_group" "partner_api_access" {
  name              = "/saas/${local.name_prefix}/partner-api/access"
  retention_in_days = 90
  kms_key_id        = module.acme_data.kms_key_arn

  tags = {
    data_class = "confidential"
    service    = "partner-api"
  }
}

resource "aws_apigatewayv2_api" "partner" {
  name          = "${local.name_prefix}-partner"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_stage" "partner" {
  api_id      = aws_apigatewayv2_api.partner.id
  name        = "$default"
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.partner_api_access.arn
    format          = "$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] \"$context.httpMethod $context.path $context.protocol\" $context.status $context.responseLength $context.requestId"
  }
}

# --- metrics shared with the central account -------------------------------------------------------------------

# Partner API error counts by status, extracted from the local access logs; shared through the OAM link below.
resource "aws_cloudwatch_log_metric_filter" "partner_errors" {
  name           = "partner-api-5xx"
  log_group_name = aws_cloudwatch_log_group.partner_api_access.name
  pattern        = "[ip, caller, user, timestamp, request, status=5*, size, request_id]"

  metric_transformation {
    name      = "error_count"
    namespace = "Acme/PartnerApi"
    value     = "1"
    dimensions = {
      status = "$status"
    }
  }
}

resource "aws_oam_link" "metrics" {
  sink_identifier = local.central_sink
  resource_types  = ["AWS::CloudWatch::Metric"]
  label_template  = "$AccountName"

  link_configuration {
    metric_configuration {
      filter = "Namespace IN ('Acme/PartnerApi', 'AWS/ApiGateway')"
    }
  }

  tags = {
    data_fields = "route status request_count latency_ms error_rate"
  }
}

# --- billing events ---------------------------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "invoice_paid" {
  name = "${local.name_prefix}-invoice-paid"
  event_pattern = jsonencode({
    source        = ["acme.billing"]
    "detail-type" = ["InvoicePaid"]
  })
}

# Aggregate billing totals by tenant id, listed field by field.
resource "aws_cloudwatch_event_target" "billing_totals" {
  rule     = aws_cloudwatch_event_rule.invoice_paid.name
  arn      = local.central_bus
  role_arn = local.events_role

  input_transformer {
    input_paths = {
      tenant_id     = "$.detail.tenant_id"
      billing_total = "$.detail.amount_total"
    }
    input_template = "{\"tenant_id\": <tenant_id>, \"billing_total\": <billing_total>}"
  }
}

# VIOLATION CKV_DH_301 aws_cloudwatch_event_target.invoice_events: breaks "Telemetry that flows centrally is de-identified at source and listed explicitly". The target forwards whole InvoicePaid events (customer, line items, payment method) to the central event bus: no input_transformer lists the fields that leave acme's account.
resource "aws_cloudwatch_event_target" "invoice_events" {
  rule     = aws_cloudwatch_event_rule.invoice_paid.name
  arn      = local.central_bus
  role_arn = local.events_role
}

# --- network and audit logs ---------------------------------------------------------------------------------

resource "aws_vpc" "main" {
  cidr_block = "10.20.0.0/16"
}

resource "aws_s3_bucket" "network_logs" {
  bucket = "${local.name_prefix}-network-logs"

  tags = {
    data_class = "confidential"
    service    = "network"
  }
}

resource "aws_s3_bucket_public_access_block" "network_logs" {
  bucket = aws_s3_bucket.network_logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# VPC flow logs stay in acme's account and region.
resource "aws_flow_log" "vpc" {
  vpc_id               = aws_vpc.main.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = aws_s3_bucket.network_logs.arn
}

# VIOLATION CKV_DH_303 aws_flow_log.vpc_rejects_central: breaks "What does not flow centrally: customer emails, names, addresses, order line items, payment tokens, IP addresses." Rejected-traffic flow logs go straight to the central bucket central-telemetry-eu-west-1, and flow logs carry the source and destination IP addresses (srcaddr, dstaddr) of acme's customers.
resource "aws_flow_log" "vpc_rejects_central" {
  vpc_id               = aws_vpc.main.id
  traffic_type         = "REJECT"
  log_destination_type = "s3"
  log_destination      = "arn:aws:s3:::central-telemetry-eu-west-1/flow-logs/acme/"
}

# The audit log only audits identifiers: CloudWatch Logs reports them but masks none.
resource "aws_cloudwatch_log_data_protection_policy" "audit_log" {
  log_group_name = module.acme_data.audit_log_group_name
  policy_document = jsonencode({
    Name    = "acme-audit-log"
    Version = "2021-06-01"
    Statement = [
      {
        Sid = "audit"
        DataIdentifier = [
          "arn:aws:dataprotection::aws:data-identifier/EmailAddress",
          "arn:aws:dataprotection::aws:data-identifier/IpAddress",
        ]
        Operation = { Audit = { FindingsDestination = {} } }
      },
    ]
  })
}

# VIOLATION CKV_DH_303 aws_cloudwatch_log_subscription_filter.audit_to_central: breaks "What does not flow centrally: customer emails, names, addresses, order line items, payment tokens, IP addresses." It ships every event of acme's audit log (who queried which customer's data) to the central log destination; the log group's data protection policy only audits, so emails, names and IP addresses leave acme's account unmasked.
resource "aws_cloudwatch_log_subscription_filter" "audit_to_central" {
  name            = "${local.name_prefix}-audit-to-central"
  log_group_name  = module.acme_data.audit_log_group_name
  filter_pattern  = ""
  destination_arn = local.central_logs
}

# Storefront application logs, de-identified at source before a copy flows centrally.
resource "aws_cloudwatch_log_group" "storefront_app" {
  name              = "/saas/${local.name_prefix}/storefront/app"
  retention_in_days = 30
  kms_key_id        = module.acme_data.kms_key_arn

  tags = {
    data_class = "confidential"
    service    = "storefront"
  }
}

resource "aws_cloudwatch_log_data_protection_policy" "storefront_app" {
  log_group_name = aws_cloudwatch_log_group.storefront_app.name
  policy_document = jsonencode({
    Name    = "acme-storefront-app"
    Version = "2021-06-01"
    Statement = [
      {
        Sid = "audit"
        DataIdentifier = [
          "arn:aws:dataprotection::aws:data-identifier/EmailAddress",
          "arn:aws:dataprotection::aws:data-identifier/IpAddress",
          "arn:aws:dataprotection::aws:data-identifier/Name",
          "arn:aws:dataprotection::aws:data-identifier/Address",
          "arn:aws:dataprotection::aws:data-identifier/CreditCardNumber",
        ]
        Operation = { Audit = { FindingsDestination = {} } }
      },
      {
        Sid = "deidentify"
        DataIdentifier = [
          "arn:aws:dataprotection::aws:data-identifier/EmailAddress",
          "arn:aws:dataprotection::aws:data-identifier/IpAddress",
          "arn:aws:dataprotection::aws:data-identifier/Name",
          "arn:aws:dataprotection::aws:data-identifier/Address",
          "arn:aws:dataprotection::aws:data-identifier/CreditCardNumber",
        ]
        Operation = { Deidentify = { MaskConfig = {} } }
      },
    ]
  })
}

resource "aws_cloudwatch_log_subscription_filter" "storefront_to_central" {
  name            = "${local.name_prefix}-storefront-to-central"
  log_group_name  = aws_cloudwatch_log_group.storefront_app.name
  filter_pattern  = "{ $.level = \"ERROR\" }"
  destination_arn = local.central_logs
}
