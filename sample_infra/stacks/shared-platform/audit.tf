# Data-access audit for the shared-services account (CKV_DH_104): a multi-region trail for management events and
# the data events of S3 objects and SQS queues.

resource "aws_s3_bucket" "platform_cloudtrail" {
  bucket = "shared-platform-cloudtrail"

  tags = {
    data_class = "confidential" # who read which support case, from where
    service    = "audit"
  }
}

resource "aws_s3_bucket_public_access_block" "platform_cloudtrail" {
  bucket = aws_s3_bucket.platform_cloudtrail.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_cloudtrail" "platform_data_access" {
  name                  = "shared-platform-data-access"
  s3_bucket_name        = aws_s3_bucket.platform_cloudtrail.id
  is_multi_region_trail = true

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
