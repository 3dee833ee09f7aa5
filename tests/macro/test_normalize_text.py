"""The step texts of the event table: `scrub_clip` reads only a long text's head and must agree with
scrubbing the whole text and clipping it."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from evswarm.macro.normalize import HEAD_READ, _clip, scrub, scrub_clip

# pieces that exercise both substitutions: per-run ids (which shrink to <id>) and whitespace runs
PIECES = st.sampled_from(["span_", "run_", "call_", "abc", "XYZ_09", "1234567", " ", "  ", "\n\t", "-", "(", "é"])


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, min_size=0, max_size=400), st.sampled_from([8, 16, 120, 160]))
def test_scrub_clip_agrees_with_scrubbing_the_whole_text(pieces: list[str], n: int) -> None:
    text = "".join(pieces)
    assert scrub_clip(text, n) == _clip(scrub(text), n)


def test_an_id_cut_at_the_head_boundary_is_scrubbed_as_in_the_whole_text() -> None:
    n = 10
    head = "word " * (HEAD_READ * n // 5 - 1) + "spa"
    text = head + "n_0123456789 tail"  # the id straddles the head's end
    assert len(head) < HEAD_READ * n < len(head) + len("n_0123456789")
    assert scrub_clip(text, n) == _clip(scrub(text), n)
    long_id = "x " * n + "span_" + "a" * (HEAD_READ * n)  # no whitespace past n in the head: whole text read
    assert scrub_clip(long_id, n) == _clip(scrub(long_id), n)


WHITESPACE = st.sampled_from([" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u2003", "\u3000"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PIECES, WHITESPACE), max_size=60))
def test_scrub_collapses_every_whitespace_the_regex_class_does(pieces: list[str]) -> None:
    text = "".join(pieces)
    by_regex = re.sub(r"\s+", " ", re.sub(r"\b(?:span|run|call)_[0-9A-Za-z_]{6,}\b", "<id>", text)).strip()
    assert scrub(text) == by_regex
