"""CKV_DH_302 (HIGH) — What stays in the tenant's region: "What does not flow centrally: customer emails, names,
addresses, order line items, payment tokens, IP addresses."

Fails:   an API Gateway stage logging {"route": "$context.path", "ip": "$context.identity.sourceIp"} to a central
         log group; a Glue table of a central database with a customer_email column
Passes:  {"route": "$context.routeKey", "status": "$context.status", "latency_ms": "$context.responseLatency"}
Docs:    docs/checks/CKV_DH_302.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import telemetry_fields_approved

check = DataHandlingCheck("CKV_DH_302", telemetry_fields_approved.evaluate)
