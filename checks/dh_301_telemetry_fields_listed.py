"""CKV_DH_301 (MEDIUM) — What stays in the tenant's region: "Telemetry that flows centrally is de-identified at
source and listed explicitly".

Fails:   a Firehose stream delivering to a central bucket (telemetry.central.bucket_name_patterns) with no
         data_format_conversion_configuration schema; an EventBridge target sending whole events to a central
         bus; an OAM link to a central sink without the field-declaration tag
Passes:  the stream converting records with a Glue table schema; a target with an input_transformer; a metric
         filter whose dimensions are the fields
Docs:    docs/checks/CKV_DH_301.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import telemetry_fields_listed

check = DataHandlingCheck("CKV_DH_301", telemetry_fields_listed.evaluate)
