name_prefix              = "globex-prod"
environment              = "prod"
partner_feeds_data_class = "confidential"
