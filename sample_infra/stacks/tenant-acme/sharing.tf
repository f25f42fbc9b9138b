# Who else may read acme's invoices: the organisation's finance account for month-end reporting, and (the
# violation) the collections agency acme's billing team works with.

data "aws_iam_policy_document" "acme_invoices" {
  # the billing services' read through acme's own S3 endpoint (access.tf)
  source_policy_documents = [data.aws_iam_policy_document.acme_invoices_read.json]

  statement {
    sid       = "OrganisationFinance"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.acme_invoices.arn}/*"]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID"
      values   = [var.organization_id]
    }
  }

  statement {
    sid       = "CollectionsAgency"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.acme_invoices.arn, "${aws_s3_bucket.acme_invoices.arn}/*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${var.collections_agency_account_id}:role/invoice-reader"]
    }
  }
}

# VIOLATION CKV_DH_105 aws_s3_bucket_policy.acme_invoices: breaks "Sell, lease, share, or otherwise transmit customer data to third parties for marketing." The CollectionsAgency statement lets a role in the agency's account 555555555555, which is not an organisation account (policy_map.yaml: organization.account_ids), read acme's Confidential invoices; the OrganisationFinance statement is fine (aws:PrincipalOrgID = organization.id).
resource "aws_s3_bucket_policy" "acme_invoices" {
  bucket = aws_s3_bucket.acme_invoices.id
  policy = data.aws_iam_policy_document.acme_invoices.json
}
