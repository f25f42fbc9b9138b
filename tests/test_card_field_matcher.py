"""The CKV_DH_203 field-name matcher with the default card_data patterns of the policy map."""

from __future__ import annotations

import pytest

from data_handling.policy.schema import CardData
from data_handling.rules.card_fields import card_data_reason

DEFAULTS = CardData()

MUST_MATCH = [
    "pan", "PAN", "card_number", "cardNumber", "CardNumber", "card-number", "cc_number", "ccNum",
    "primary_account_number", "cvv", "CVV2", "cvc", "card_verification_value", "security_code",
    "customer_card_number",
    # More spellings of the same fields.
    "cardNo", "CARD_NUMBER", "PrimaryAccountNumber", "creditCardNumber", "debit_card_num", "card.number",
    "Card Number", "CVC2", "cvn", "securityCode", "CardVerificationCode", "payer_pan",
    # Derived forms that still hold the value: PCI DSS forbids storing the CVV in any form.
    "cvv_hash", "cvv_encrypted",
]

MUST_NOT_MATCH = [
    # Tokenised handles and truncated numbers: what we are meant to keep.
    "card_token", "payment_method_id", "last4", "card_last4", "cardLast4", "last_four", "card_fingerprint",
    # pan_token: a token that stands for the PAN is a tokenised handle, not the PAN (the tokenised patterns win).
    "pan_token", "card_number_token",
    # Words that merely contain the letters.
    "company", "span", "panel", "expansion", "japan", "panorama", "cvs_store_id",
    # Card metadata that is not the number.
    "card_brand", "card_country", "card_exp_month",
    # cvv_checked / cvc_check: the processor's pass/fail verdict on the CVV (Stripe's cvc_check), not the CVV.
    "cvv_checked", "cvc_check", "cvv2_result",
]


@pytest.mark.parametrize("name", MUST_MATCH)
def test_card_data_names_match(name):
    assert card_data_reason(name, DEFAULTS), name


@pytest.mark.parametrize("name", MUST_NOT_MATCH)
def test_other_names_do_not_match(name):
    assert card_data_reason(name, DEFAULTS) is None, name


def test_the_reason_tells_pan_from_cvv():
    assert "PAN" in card_data_reason("cardNumber", DEFAULTS)
    assert "CVV" in card_data_reason("CVV2", DEFAULTS)
