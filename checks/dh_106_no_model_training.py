"""CKV_DH_106 (HIGH) — What we never do: "Train models on identifiable customer data."

Applies to the resources that train or fine-tune a model (Bedrock custom models, Comprehend classifiers and
recognizers, Transcribe language models, Glue ML transforms, SageMaker training jobs) and the stores they read.
Fails:   aws_bedrock_custom_model training_data_config { s3_uri = "s3://${aws_s3_bucket.orders.bucket}/train/" }
         where aws_s3_bucket.orders is tagged data_class = "confidential"
Fails:   input_data_config { s3_uri = var.corpus_uri } with no value, or a bucket nothing in the scan declares
Passes:  the same from a bucket classified internal or public, or a central telemetry bucket
Docs:    docs/checks/CKV_DH_106.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import no_model_training

check = DataHandlingCheck("CKV_DH_106", no_model_training.evaluate)
