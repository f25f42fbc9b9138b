# Data-access audit for the payments account (CKV_DH_104): "Two-person rule, logged". Secret and parameter reads
# (GetSecretValue, GetParameter) are management events; card-adjacent tables and buckets are data events.

resource "aws_s3_bucket" "payments_cloudtrail" {
  bucket = "payments-${var.environment}-cloudtrail"

  tags = {
    data_class = "confidential" # who read which secret, from where
  }
}

resource "aws_s3_bucket_public_access_block" "payments_cloudtrail" {
  bucket = aws_s3_bucket.payments_cloudtrail.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_cloudtrail" "payments_access" {
  name                       = "payments-access"
  s3_bucket_name             = aws_s3_bucket.payments_cloudtrail.id
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
    name = "Glue table data access"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::Glue::Table"]
    }
  }
}
