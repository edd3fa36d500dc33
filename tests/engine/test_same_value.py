"""Parity's equality: floats within the tolerance, also inside JSON documents such as a finding's body."""

from __future__ import annotations

from cxchain.engine.parity import same_value


def test_json_documents_compare_their_floats_within_the_tolerance() -> None:
    a = '{"value": 0.32217573221757323, "items": [["Rent", 0.1]], "n": 239}'
    assert same_value(a, '{"value": 0.3221757322175733, "items": [["Rent", 0.1]], "n": 239}')
    assert not same_value(a, '{"value": 0.3222, "items": [["Rent", 0.1]], "n": 239}')
    assert not same_value(a, '{"value": 0.32217573221757323, "items": [["Rent", 0.1]], "n": 240}')
    assert not same_value("{not json", "{not json either")
    assert same_value("plain", "plain") and not same_value("plain", "other")
