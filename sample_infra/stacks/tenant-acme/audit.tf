# Data-access audit for acme's account (CKV_DH_104): one multi-region trail that records management events and
# the data events of every S3 object, DynamoDB table and SQS queue in the account.

resource "aws_s3_bucket" "acme_cloudtrail" {
  bucket = "acme-${var.environment}-cloudtrail"

  tags = {
    data_class = "confidential" # who read which customer's data, from where
    service    = "audit"
  }
}

resource "aws_s3_bucket_public_access_block" "acme_cloudtrail" {
  bucket = aws_s3_bucket.acme_cloudtrail.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_cloudtrail" "acme_data_access" {
  name                       = "acme-data-access"
  s3_bucket_name             = aws_s3_bucket.acme_cloudtrail.id
  is_multi_region_trail      = true
  enable_log_file_validation = true

  advanced_event_selector {
    name = "Management events"
    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }

  advanced_event_selector {
    name = "S3 object access"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::S3::Object"]
    }
  }

  advanced_event_selector {
    name = "DynamoDB item access"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::DynamoDB::Table"]
    }
  }

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
