"""CKV_DH_203 (CRITICAL) — What we never do: "Store full card numbers (PAN). Stripe holds the cards; we hold a
tokenised handle."

Fails:   aws_glue_catalog_table with storage_descriptor { columns { name = "card_number" } }
Fails:   aws_dynamodb_table with attribute { name = "cvv" }, or tags = { data_fields = "order_id, cardNumber" }
Passes:  aws_dynamodb_table with attributes intent_id and card_token; a data_fields tag listing last4
Docs:    docs/checks/CKV_DH_203.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import card_fields

check = DataHandlingCheck("CKV_DH_203", card_fields.evaluate)
