"""The fast YAML path's quicker text scans find exactly what their plain definitions find.

fast_documents.py scans raw text with str.find, bytes.split and literal-first patterns where a
regular expression over every offset (or a copy of the text without spaces) says what is meant;
each scan is checked here against that definition, on texts built from the characters that
decide it (markers, colons, brackets, every whitespace str.split knows, non-ASCII, surrogates).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.validating import fast_documents as fd

# str.split's whitespace beyond ASCII's six, which bytes.split does not know
ODD_SPACES = "\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
PIECES = [
    "\n", " ", "  ", "-", "- ", ":", ": ", "?", "[", "]", "{", "}", ",", '"', "'", "#", "|", ">",
    "---", "--- ", "--- #c", "...", "%YAML", "a", "key", "0644", "yes", "1", "é", "日本",
    "\ud800", "\t", "\r", *ODD_SPACES,
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


def tokens_by_definition(text: str) -> set[bytes]:
    return {t.encode("utf-8", "surrogatepass") for t in fd._TOKENS.split(text) if t}


def empty_key_by_definition(text: str) -> bool:
    packed = text.replace(" ", "")
    return packed.startswith(":") or any(
        pair in packed for pair in ("\n:", "-:", "?:", "[:", "{:", ",:")
    )


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_tokens_are_the_tokens_pattern_splits_out(text: str) -> None:
    assert fd._tokens(text) == tokens_by_definition(text)


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_separators_are_the_separator_pattern_matches(text: str) -> None:
    found = [m.span() for m in fd._separators(text)]
    assert found == [m.span() for m in fd._SEPARATOR.finditer(text)]


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_an_empty_key_is_a_colon_after_an_indicator_and_spaces(text: str) -> None:
    assert fd._empty_key(text) == empty_key_by_definition(text)


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_flow_rests_and_flow_keys_are_what_their_patterns_find(text: str) -> None:
    assert fd._flow_rests(text) == [m.group() for m in fd._FLOW_REST_OF_LINE.finditer(text)]
    halves = fd._FLOW_KEY_SQUARE.search(text) or fd._FLOW_KEY_CURLY.search(text)
    assert bool(halves) == bool(fd._FLOW_KEY.search(text))


@pytest.mark.parametrize(
    "text",
    ["a: 1\n---\nb: 2\n", "---\n---\n", "--- # c\nx: 1\n---", "x: ---\n", "---x\n--- \n"],
    ids=["two", "empty-documents", "comment-and-end", "in-a-value", "not-a-marker"],
)
def test_separators_on_marker_layouts(text: str) -> None:
    assert [m.span() for m in fd._separators(text)] == [
        m.span() for m in fd._SEPARATOR.finditer(text)
    ]


def test_remembered_verdicts_answer_as_the_rule_does_across_a_clear() -> None:
    verdicts = fd._Verdicts(limit=6)
    first = {b"yes", b"name:", b"0644", b"app"}
    assert verdicts.risky_of(set(first)) == {t for t in first if fd._risky(t.decode())}
    assert verdicts.risky_of({b"yes", b"app"}) == {b"yes"}  # from memory
    # four remembered, three new: over the limit, so memory starts again from these three
    assert verdicts.risky_of({b"yes", b"on", b"x", b"y"}) == {b"yes", b"on"}
    assert verdicts.safe | verdicts.risky == {b"on", b"x", b"y"}


def test_the_scans_keep_risky_tokens_inside_non_ascii_text() -> None:
    text = "名前: yes\nmode: 0644\nnote: 'é'\n"
    assert fd._risky_tokens(text) == {"yes", "0644"}
    assert re.search("yes", text)  # the text is what the assertion says it is
