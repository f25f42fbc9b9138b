"""End to end: CKV_DH_301-303 (central telemetry) through the real checkov CLI; exact IDs, addresses, results."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, outcomes, run_checkov

ROOT = FIXTURES / "ckv_dh_30x"
POLICY_MAP = ROOT / "policy_map.yaml"


def _scan(root: str):
    code, results, stderr = run_checkov(ROOT / root, POLICY_MAP, check="CKV_DH_30*")
    assert "Traceback" not in stderr, stderr
    assert code == 1
    details = {(r.check_id, r.resource): " ".join(r.details) for r in results}
    for result in results:
        if result.result == "failed":
            assert result.details[0].startswith("Found: ") and result.details[1].startswith("Policy: ")
            assert result.details[2].startswith("Fix: ")
    return outcomes(results), details


@pytest.fixture(scope="module")
def sinks():
    return _scan("sinks")


@pytest.fixture(scope="module")
def raw_logs():
    return _scan("raw_logs")


def test_sinks_exact_results(sinks):
    found, _ = sinks
    assert found == {
        # Glue tables of central telemetry databases
        ("CKV_DH_301", "aws_glue_catalog_table.requests_ok", "passed"),
        ("CKV_DH_302", "aws_glue_catalog_table.requests_ok", "passed"),
        ("CKV_DH_301", "aws_glue_catalog_table.orders_pii", "passed"),
        ("CKV_DH_302", "aws_glue_catalog_table.orders_pii", "failed"),
        ("CKV_DH_301", "aws_glue_catalog_table.raw_events", "failed"),
        ("CKV_DH_301", "aws_glue_catalog_table.webhooks", "passed"),
        ("CKV_DH_302", "aws_glue_catalog_table.webhooks", "failed"),
        ("CKV_DH_301", "aws_glue_catalog_table.billing_dynamic", "passed"),
        ("CKV_DH_302", "aws_glue_catalog_table.billing_dynamic", "passed"),
        ("CKV_DH_301", "aws_glue_catalog_table.events_dynamic", "failed"),
        # Firehose streams into central destinations
        ("CKV_DH_301", "aws_kinesis_firehose_delivery_stream.requests_ok", "passed"),
        ("CKV_DH_302", "aws_kinesis_firehose_delivery_stream.requests_ok", "passed"),
        ("CKV_DH_301", "aws_kinesis_firehose_delivery_stream.raw_json", "failed"),
        ("CKV_DH_301", "aws_kinesis_firehose_delivery_stream.unknown_schema", "failed"),
        ("CKV_DH_301", "aws_kinesis_firehose_delivery_stream.billing_tagged", "passed"),
        ("CKV_DH_302", "aws_kinesis_firehose_delivery_stream.billing_tagged", "failed"),
        # metric filters: a central log group, an OAM link and a metric stream sharing the namespace
        ("CKV_DH_301", "aws_cloudwatch_log_metric_filter.central_errors", "passed"),
        ("CKV_DH_302", "aws_cloudwatch_log_metric_filter.central_errors", "passed"),
        ("CKV_DH_301", "aws_cloudwatch_log_metric_filter.acme_latency", "passed"),
        ("CKV_DH_302", "aws_cloudwatch_log_metric_filter.acme_latency", "failed"),
        ("CKV_DH_301", "aws_cloudwatch_log_metric_filter.other_checkout", "passed"),
        ("CKV_DH_302", "aws_cloudwatch_log_metric_filter.other_checkout", "failed"),
        # OAM links
        ("CKV_DH_301", "aws_oam_link.acme_metrics", "passed"),
        ("CKV_DH_302", "aws_oam_link.acme_metrics", "passed"),
        ("CKV_DH_301", "aws_oam_link.other_everything", "failed"),
        ("CKV_DH_303", "aws_oam_link.other_everything", "failed"),
        # EventBridge targets
        ("CKV_DH_301", "aws_cloudwatch_event_target.billing_ok", "passed"),
        ("CKV_DH_302", "aws_cloudwatch_event_target.billing_ok", "passed"),
        ("CKV_DH_301", "aws_cloudwatch_event_target.billing_pii", "passed"),
        ("CKV_DH_302", "aws_cloudwatch_event_target.billing_pii", "failed"),
        ("CKV_DH_301", "aws_cloudwatch_event_target.orders_whole", "failed"),
        ("CKV_DH_301", "aws_cloudwatch_event_target.orders_detail", "failed"),
        ("CKV_DH_301", "aws_cloudwatch_event_target.orders_embedded", "failed"),
        ("CKV_DH_301", "aws_cloudwatch_event_target.heartbeat", "passed"),
        ("CKV_DH_302", "aws_cloudwatch_event_target.heartbeat", "passed"),
        ("CKV_DH_301", "aws_cloudwatch_event_target.orders_via_firehose", "failed"),
        # API Gateway access logs
        ("CKV_DH_301", "aws_apigatewayv2_stage.json_ok", "passed"),
        ("CKV_DH_302", "aws_apigatewayv2_stage.json_ok", "passed"),
        ("CKV_DH_303", "aws_apigatewayv2_stage.json_ok", "passed"),
        ("CKV_DH_301", "aws_apigatewayv2_stage.json_disguised", "passed"),
        ("CKV_DH_302", "aws_apigatewayv2_stage.json_disguised", "failed"),
        ("CKV_DH_303", "aws_apigatewayv2_stage.json_disguised", "failed"),
        ("CKV_DH_301", "aws_api_gateway_stage.clf", "passed"),
        ("CKV_DH_302", "aws_api_gateway_stage.clf", "failed"),
        ("CKV_DH_303", "aws_api_gateway_stage.clf", "failed"),
        ("CKV_DH_301", "aws_apigatewayv2_stage.unrendered_format", "failed"),
        ("CKV_DH_303", "aws_apigatewayv2_stage.unrendered_format", "failed"),
        ("CKV_DH_303", "aws_apigatewayv2_stage.local", "passed"),
        ("CKV_DH_301", "aws_api_gateway_stage.clf_ok", "passed"),
        ("CKV_DH_302", "aws_api_gateway_stage.clf_ok", "passed"),
        ("CKV_DH_303", "aws_api_gateway_stage.clf_ok", "passed"),
    }


def test_sinks_name_the_destination_why_it_is_central_and_each_field(sinks):
    _, details = sinks
    glue = details[("CKV_DH_302", "aws_glue_catalog_table.orders_pii")]
    assert "aws_glue_catalog_database.central_tagged" in glue and 'telemetry_scope = "central"' in glue
    assert '"customer_email"' in glue and "customer emails never flow centrally" in glue
    assert '"request.client_ip"' in glue and "IP addresses never flow centrally" in glue
    assert '"customerId"' in glue and "never by customer id" in glue
    assert '"route"' not in glue  # approved fields are not listed
    assert "catalog_id 111111111111" in details[("CKV_DH_301", "aws_glue_catalog_table.raw_events")]
    assert "declares no columns" in details[("CKV_DH_301", "aws_glue_catalog_table.raw_events")]
    webhooks = details[("CKV_DH_302", "aws_glue_catalog_table.webhooks")]
    assert '"central-telemetry-webhooks" matches telemetry.central.bucket_name_patterns' in webhooks
    assert '"url_path"' in webhooks and '"endpoint_host"' not in webhooks

    raw_json = details[("CKV_DH_301", "aws_kinesis_firehose_delivery_stream.raw_json")]
    assert '"arn:aws:s3:::central-telemetry-raw"' in raw_json and "delivers whole records" in raw_json
    assert "not_in_this_configuration" in details[("CKV_DH_301", "aws_kinesis_firehose_delivery_stream.unknown_schema")]
    tagged = details[("CKV_DH_302", "aws_kinesis_firehose_delivery_stream.billing_tagged")]
    assert '"customer_id" (tag data_fields)' in tagged

    latency = details[("CKV_DH_302", "aws_cloudwatch_log_metric_filter.acme_latency")]
    assert "aws_oam_link.acme_metrics shares the account's metrics" in latency
    assert '"route" (dimension, from $.clientIp)' in latency and "IP addresses" in latency
    checkout = details[("CKV_DH_302", "aws_cloudwatch_log_metric_filter.other_checkout")]
    assert "order line items never flow centrally" in checkout and "central-metrics" in checkout

    assert "no list of the fields" in details[("CKV_DH_301", "aws_oam_link.other_everything")]
    pii = details[("CKV_DH_302", "aws_cloudwatch_event_target.billing_pii")]
    assert "the ARN's account 111111111111 is in telemetry.central.account_ids" in pii
    assert '"customer" (input path, from $.detail.customer.email)' in pii and '"line_items"' in pii
    assert "whole events" in details[("CKV_DH_301", "aws_cloudwatch_event_target.orders_whole")]
    assert "input_path $.detail" in details[("CKV_DH_301", "aws_cloudwatch_event_target.orders_detail")]
    assert "<aws.events.event>" in details[("CKV_DH_301", "aws_cloudwatch_event_target.orders_embedded")]
    via = details[("CKV_DH_301", "aws_cloudwatch_event_target.orders_via_firehose")]
    assert "aws_kinesis_firehose_delivery_stream.billing_tagged" in via
    assert "it delivers to aws_s3_bucket.central_requests" in via


def test_access_log_fields_are_judged_by_what_they_carry(sinks):
    _, details = sinks
    disguised = details[("CKV_DH_302", "aws_apigatewayv2_stage.json_disguised")]
    assert '"route" (access log format key, carries $context.path' in disguised and "URL path" in disguised
    assert '"client" (access log format key, carries $context.identity.sourceIp' in disguised
    assert "$context.authorizer.claims.email" in disguised and "user identities" in disguised
    assert '"status"' not in disguised
    assert "aws_cloudwatch_log_group.central_api" in disguised and "account 111111111111" in disguised
    clf = details[("CKV_DH_302", "aws_api_gateway_stage.clf")]
    for expected in ("$context.identity.sourceIp", "$context.identity.caller", "$context.protocol",
                     "$context.requestId", "not on telemetry.approved_fields"):
        assert expected in clf
    assert "$context.resourcePath" not in clf and "$context.requestTime" not in clf
    assert "could not be evaluated" in details[("CKV_DH_301", "aws_apigatewayv2_stage.unrendered_format")]
    raw = details[("CKV_DH_303", "aws_apigatewayv2_stage.json_disguised")]
    assert "$context.identity.sourceIp (the caller's IP address)" in raw and "$context.path" in raw


def test_raw_logs_exact_results(raw_logs):
    found, _ = raw_logs
    assert found == {
        ("CKV_DH_303", "aws_flow_log.to_central_bucket", "failed"),
        ("CKV_DH_303", "aws_flow_log.to_central_bucket_arn", "failed"),
        ("CKV_DH_303", "aws_flow_log.local", "passed"),
        ("CKV_DH_303", "aws_flow_log.no_addresses", "passed"),
        ("CKV_DH_303", "aws_flow_log.unresolved", "failed"),
        ("CKV_DH_303", "aws_flow_log.to_local_group", "passed"),
        ("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.flow_protected", "passed"),
        ("CKV_DH_303", "aws_route53_resolver_query_log_config.central", "failed"),
        ("CKV_DH_303", "aws_route53_resolver_query_log_config.local", "passed"),
        ("CKV_DH_303", "aws_lb.public", "failed"),
        ("CKV_DH_303", "aws_lb.local", "passed"),
        ("CKV_DH_303", "aws_lb.connections", "failed"),
        ("CKV_DH_303", "aws_cloudfront_distribution.cdn", "failed"),
        ("CKV_DH_303", "aws_cloudfront_distribution.local_cdn", "passed"),
        ("CKV_DH_303", "aws_cloudwatch_log_delivery.cdn", "failed"),
        ("CKV_DH_303", "aws_cloudwatch_log_delivery.cdn_fields", "passed"),
        ("CKV_DH_303", "aws_wafv2_web_acl_logging_configuration.central", "failed"),
        ("CKV_DH_303", "aws_wafv2_web_acl_logging_configuration.via_firehose", "failed"),
        ("CKV_DH_301", "aws_kinesis_firehose_delivery_stream.waf", "failed"),
        ("CKV_DH_303", "aws_wafv2_web_acl_logging_configuration.local", "passed"),
        ("CKV_DH_303", "aws_s3_bucket_logging.orders", "failed"),
        ("CKV_DH_303", "aws_s3_bucket_logging.local", "passed"),
        ("CKV_DH_303", "aws_s3_bucket.legacy", "failed"),
        ("CKV_DH_303", "aws_s3_bucket.legacy_local", "passed"),
        ("CKV_DH_303", "aws_cloudtrail.org", "failed"),
        ("CKV_DH_303", "aws_cloudtrail.local", "passed"),
        ("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.app_protected", "passed"),
        ("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.audit_only", "failed"),
        ("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.partly_masked", "failed"),
        ("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.unevaluated_policy", "passed"),
        ("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.unknown_policy", "failed"),
        ("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.unprotected", "failed"),
        ("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.local", "passed"),
        ("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.apse2_app", "passed"),
        ("CKV_DH_301", "aws_oam_link.apse2_logs", "passed"),
        ("CKV_DH_302", "aws_oam_link.apse2_logs", "passed"),
        ("CKV_DH_303", "aws_oam_link.apse2_logs", "passed"),
        ("CKV_DH_301", "aws_oam_link.logs_to_central", "failed"),
        ("CKV_DH_303", "aws_oam_link.logs_to_central", "failed"),
        ("CKV_DH_301", "aws_oam_link.traces", "passed"),
        ("CKV_DH_302", "aws_oam_link.traces", "passed"),
        ("CKV_DH_303", "aws_oam_link.traces", "failed"),
    }


def test_raw_logs_name_the_source_the_destination_and_the_protection(raw_logs):
    _, details = raw_logs
    flow = details[("CKV_DH_303", "aws_flow_log.to_central_bucket")]
    assert "VPC flow logs" in flow and "srcaddr, dstaddr" in flow and "aws_s3_bucket.central_archive" in flow
    assert 'allowed_account_ids of provider "aws.central"' in flow
    assert "central-telemetry-flow-logs" in details[("CKV_DH_303", "aws_flow_log.to_central_bucket_arn")]
    unresolved = details[("CKV_DH_303", "aws_flow_log.unresolved")]
    assert "var.flow_log_destination" in unresolved and "cannot be told central or not" in unresolved
    assert "names they query" in details[("CKV_DH_303", "aws_route53_resolver_query_log_config.central")]
    assert "client IP addresses" in details[("CKV_DH_303", "aws_lb.public")]
    assert '"central-telemetry-cdn.s3.amazonaws.com"' in details[("CKV_DH_303", "aws_cloudfront_distribution.cdn")]
    delivery = details[("CKV_DH_303", "aws_cloudwatch_log_delivery.cdn")]
    assert "ACCESS_LOGS logs of aws_cloudfront_distribution.cdn" in delivery and "central-telemetry-cdn-v2" in delivery
    waf = details[("CKV_DH_303", "aws_wafv2_web_acl_logging_configuration.via_firehose")]
    assert "aws_kinesis_firehose_delivery_stream.waf" in waf and "it delivers to aws_s3_bucket.central_archive" in waf
    assert "redacted_fields cannot redact" in waf
    assert "userIdentity" in details[("CKV_DH_303", "aws_cloudtrail.org")]
    assert "central-telemetry-s3-access" in details[("CKV_DH_303", "aws_s3_bucket.legacy")]
    audit = details[("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.audit_only")]
    assert "only audits EmailAddress" in audit and "aws_cloudwatch_log_data_protection_policy.acme_audit" in audit
    partly = details[("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.partly_masked")]
    assert "masks EmailAddress" in partly and "IpAddress, Name, Address, CreditCardNumber" in partly
    unevaluated = details[("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.unknown_policy")]
    assert "could not be evaluated" in unevaluated
    unprotected = details[("CKV_DH_303", "aws_cloudwatch_log_subscription_filter.unprotected")]
    assert '"/aws/lambda/acme-checkout"' in unprotected and "no CloudWatch Logs data protection policy" in unprotected
    oam = details[("CKV_DH_303", "aws_oam_link.logs_to_central")]
    assert "aws_oam_sink.central" in oam and "LogGroupName LIKE '/acme/%'" in oam
    assert "X-Ray traces" in details[("CKV_DH_303", "aws_oam_link.traces")]


def test_modules_providers_default_tags_and_dynamic_blocks():
    found, details = _scan("modules")
    assert found == {
        ("CKV_DH_303", "module.vpc.aws_flow_log.this", "failed"),
        ("CKV_DH_303", "module.vpc_tagged.aws_flow_log.this", "failed"),
        ("CKV_DH_303", 'module.vpc_local["apps"].aws_flow_log.this', "passed"),
        ("CKV_DH_301", "module.api.aws_apigatewayv2_stage.this", "passed"),
        ("CKV_DH_302", "module.api.aws_apigatewayv2_stage.this", "failed"),
        ("CKV_DH_303", "module.api.aws_apigatewayv2_stage.this", "failed"),
        ("CKV_DH_301", "module.api_ok.aws_apigatewayv2_stage.this", "passed"),
        ("CKV_DH_302", "module.api_ok.aws_apigatewayv2_stage.this", "passed"),
        ("CKV_DH_303", "module.api_ok.aws_apigatewayv2_stage.this", "passed"),
        # dynamic blocks over module inputs, rebuilt as Terraform would (an empty for_each yields no block)
        ("CKV_DH_303", "module.alb.aws_lb.this", "failed"),
        ("CKV_DH_303", "module.alb_local.aws_lb.this", "passed"),
        ("CKV_DH_303", "module.cdn_central.aws_cloudfront_distribution.this", "failed"),
        ("CKV_DH_303", "module.alb_archive.aws_lb.this", "failed"),
        ("CKV_DH_303", "aws_lb.edge", "failed"),
    }
    vpc = details[("CKV_DH_303", "module.vpc.aws_flow_log.this")]
    assert "module.central_archive.aws_s3_bucket.this" in vpc
    assert "via module.central_archive providers { aws = aws.central }" in vpc
    tagged = details[("CKV_DH_303", "module.vpc_tagged.aws_flow_log.this")]
    assert 'telemetry_scope = "central" (default_tags of provider "aws.tagged"' in tagged
    assert '"ip" (access log format key' in details[("CKV_DH_302", "module.api.aws_apigatewayv2_stage.this")]
    assert '"central-telemetry-alb-logs"' in details[("CKV_DH_303", "module.alb.aws_lb.this")]
    for address in ("module.alb_archive.aws_lb.this", "aws_lb.edge"):
        assert "to module.central_archive.aws_s3_bucket.this" in details[("CKV_DH_303", address)]
