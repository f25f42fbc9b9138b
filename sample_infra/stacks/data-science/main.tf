locals {
  base_model_arn = "arn:aws:bedrock:eu-west-1::foundation-model/${var.base_model_id}"
}

# Aggregated, de-identified product metrics (daily counts per route and status): Internal.
resource "aws_s3_bucket" "product_metrics" {
  bucket = "acme-${var.environment}-product-metrics"
  tags   = { data_class = "internal" }
}

# Where the customization jobs write their models and metrics: Internal.
resource "aws_s3_bucket" "models" {
  bucket = "acme-${var.environment}-ds-models"
  tags   = { data_class = "internal" }
}

# acme's order data, created by the tenant-acme stack (module.acme_data); policy_map.yaml classifies this data
# source Confidential (classification.rules "data.aws_s3_bucket.acme_orders").
data "aws_s3_bucket" "acme_orders" {
  bucket = "acme-${var.environment}-tenant-data"
}

data "aws_iam_policy_document" "bedrock_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["bedrock.amazonaws.com", "comprehend.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_iam_role" "model_training" {
  name               = "ds-model-training"
  assume_role_policy = data.aws_iam_policy_document.bedrock_assume.json
}

# VIOLATION CKV_DH_106 aws_bedrock_custom_model.order_recommender: "Train models on identifiable customer data" is something we never do, and this fine-tunes a model on acme's Confidential order records.
resource "aws_bedrock_custom_model" "order_recommender" {
  custom_model_name     = "order-recommender"
  job_name              = "order-recommender-${var.environment}-v1"
  base_model_identifier = local.base_model_arn
  role_arn              = aws_iam_role.model_training.arn
  hyperparameters = {
    epochCount   = "2"
    batchSize    = "1"
    learningRate = "0.00001"
  }
  output_data_config {
    s3_uri = "s3://${aws_s3_bucket.models.bucket}/order-recommender/"
  }
  training_data_config {
    s3_uri = "s3://${data.aws_s3_bucket.acme_orders.bucket}/orders/fine-tune.jsonl"
  }
}

# Compliant: aggregated metrics only ("Aggregate, anonymised telemetry is fair game").
resource "aws_bedrock_custom_model" "capacity_forecaster" {
  custom_model_name     = "capacity-forecaster"
  job_name              = "capacity-forecaster-${var.environment}-v1"
  base_model_identifier = local.base_model_arn
  role_arn              = aws_iam_role.model_training.arn
  hyperparameters = {
    epochCount = "1"
  }
  output_data_config {
    s3_uri = "s3://${aws_s3_bucket.models.bucket}/capacity-forecaster/"
  }
  training_data_config {
    s3_uri = "s3://${aws_s3_bucket.product_metrics.bucket}/daily/train.jsonl"
  }
  validation_data_config {
    validator {
      s3_uri = "s3://${aws_s3_bucket.product_metrics.bucket}/daily/validation.jsonl"
    }
  }
}

# Compliant: central telemetry (telemetry.central.bucket_name_patterns "central-telemetry-*").
resource "aws_comprehend_document_classifier" "error_themes" {
  name                 = "error-themes"
  data_access_role_arn = aws_iam_role.model_training.arn
  language_code        = "en"
  mode                 = "MULTI_CLASS"
  input_data_config {
    s3_uri = "s3://central-telemetry-eu-west-1/aggregates/error-messages/"
  }
}
