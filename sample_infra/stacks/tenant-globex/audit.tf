# Data-access audit for globex's account (CKV_DH_104). To keep data-event costs down the trail records S3
# object events only for the buckets listed here; tables and queues are recorded account-wide.

resource "aws_s3_bucket" "globex_cloudtrail" {
  provider = aws.primary
  bucket   = "${var.name_prefix}-cloudtrail"

  tags = {
    data_class = "confidential" # who read which customer's data, from where
    service    = "audit"
  }
}

resource "aws_s3_bucket_public_access_block" "globex_cloudtrail" {
  provider = aws.primary
  bucket   = aws_s3_bucket.globex_cloudtrail.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_cloudtrail" "globex_data_access" {
  provider              = aws.primary
  name                  = "globex-data-access"
  s3_bucket_name        = aws_s3_bucket.globex_cloudtrail.id
  is_multi_region_trail = true

  event_selector {
    read_write_type           = "All"
    include_management_events = true

    data_resource {
      type = "AWS::S3::Object"
      values = [
        "${module.globex_data.bucket_arn}/",
        "${module.globex_eu_copy.bucket_arn}/",
        "${aws_s3_bucket.globex_cloudtrail.arn}/",
      ]
    }

    data_resource {
      type   = "AWS::DynamoDB::Table"
      values = ["arn:aws:dynamodb"]
    }
  }
}

# SQS data events need an advanced selector, and a trail has either kind: queues go to a second trail.
resource "aws_cloudtrail" "globex_queue_access" {
  provider              = aws.primary
  name                  = "globex-queue-access"
  s3_bucket_name        = aws_s3_bucket.globex_cloudtrail.id
  is_multi_region_trail = true

  advanced_event_selector {
    name = "SQS message access"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::SQS::Queue"]
    }
  }
}
