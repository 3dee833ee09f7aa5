"""Content features of a step: JSON leaves, and for free text its words and the JSON written inside it."""

from __future__ import annotations

from evswarm.macro.shapes import MAX_WORDS, features, is_word


def test_a_chat_turn_has_its_words_and_the_leaves_of_the_call_it_spells_out() -> None:
    said = features('Issue the refund.\n-> issue_refund({"amount": 68.0, "order_id": "O-0026"})')
    assert said == ["text", "amount=#", "order_id=s", "text~issue", "text~the", "text~refund", "text~issue_refund"]
    assert [f for f in said if is_word(f)] == said[3:]


def test_words_are_lowercased_and_digits_and_short_words_dropped() -> None:
    assert features("Error 404 on MY 2026-04 Invoice, ok?") == ["text", "text~error", "text~invoice"]


def test_broken_json_inside_text_is_read_as_words_and_a_long_text_keeps_its_first_words() -> None:
    assert features("[oops {not json] done") == ["text", "text~oops", "text~not", "text~json", "text~done"]
    many = " ".join(f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(MAX_WORDS + 10))
    assert len(features(many)) == 1 + MAX_WORDS


def test_a_json_payload_keeps_its_leaves_and_gets_no_words() -> None:
    assert features('{"status": "open", "amount_due": 40.5}') == ["amount_due=#", "status=open"]
    assert features("") == ["empty"]
