# Who may read acme's buckets: roles of acme's account, and readers inside acme's VPC through its S3 endpoint.

resource "aws_vpc_endpoint" "s3" {
  vpc_id       = aws_vpc.main.id
  service_name = "com.amazonaws.${var.region}.s3"
}

# Anyone, but only through acme's own gateway endpoint: the billing services in the VPC read invoices.
data "aws_iam_policy_document" "acme_invoices_read" {
  statement {
    sid       = "ReadThroughAcmeEndpoint"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.acme_invoices.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceVpce"
      values   = [aws_vpc_endpoint.s3.id]
    }
  }
}

# A bucket has one policy: this statement is merged into aws_s3_bucket_policy.acme_invoices (sharing.tf).

# "Partners read the data bucket over TLS": aws:SecureTransport says how a request travels, not who sends it.
data "aws_iam_policy_document" "acme_data_partner_read" {
  statement {
    sid       = "PartnerReadOverTls"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [module.acme_data.bucket_arn, "${module.acme_data.bucket_arn}/*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["true"]
    }
  }
}

# VIOLATION CKV_DH_105 aws_s3_bucket_policy.acme_data_partner_read: breaks "Sell, lease, share, or otherwise transmit customer data to third parties for marketing." Every AWS principal is every AWS account, so the same statement shares acme's customer data with accounts outside the organisation.
# VIOLATION CKV_DH_103 aws_s3_bucket_policy.acme_data_partner_read: breaks "Role-gated, audited" (Confidential access). The policy of acme's tenant data bucket (module.acme_data, data_class = "confidential") allows s3:GetObject and s3:ListBucket to every AWS principal; its only condition, aws:SecureTransport, restricts no caller, so anyone with an AWS account can read acme's customer data.
resource "aws_s3_bucket_policy" "acme_data_partner_read" {
  bucket = module.acme_data.bucket_name
  policy = data.aws_iam_policy_document.acme_data_partner_read.json
}
