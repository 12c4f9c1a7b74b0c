"""`domain.jsontext.loads`: its fast colon count and the exact key count agree on every text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import jsontext

# Keys and strings rich in what could fool a count: colons, quotes, backslashes, escapes.
_TEXT = st.text(alphabet=st.sampled_from(["a", "b", ":", '"', "\\", " ", "é", "\n"]), max_size=6)
_SCALAR = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | _TEXT


def _pairs(depth: int) -> st.SearchStrategy[list[tuple[str, object]]]:
    """An object as a list of (key, value) pairs, keys possibly repeated."""
    value = _SCALAR if depth <= 0 else _SCALAR | st.deferred(lambda: _object(depth - 1))
    return st.lists(st.tuples(st.sampled_from(["a", "b", "a:b", 'q"', ""]) | _TEXT, value), max_size=5)


def _object(depth: int) -> st.SearchStrategy[object]:
    return _pairs(depth).map(_Obj) | st.lists(
        st.deferred(lambda: _object(depth - 1)) if depth > 0 else _SCALAR, max_size=3
    )


class _Obj(list[tuple[str, object]]):
    pass


def _encode(value: object, ascii_only: bool, spaced: bool) -> str:
    colon = " : " if spaced else ":"
    if isinstance(value, _Obj):
        return (
            "{"
            + ",".join(
                json.dumps(k, ensure_ascii=ascii_only) + colon + _encode(v, ascii_only, spaced) for k, v in value
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_encode(v, ascii_only, spaced) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def _repeats(value: object) -> bool:
    if isinstance(value, _Obj):
        keys = [k for k, _ in value]
        return len(keys) != len(set(keys)) or any(_repeats(v) for _, v in value)
    if isinstance(value, list):
        return any(_repeats(v) for v in value)
    return False


@settings(max_examples=600, derandomize=True, deadline=None)
@given(_object(3), st.booleans(), st.booleans(), st.booleans())
def test_a_repeated_key_is_found_exactly_when_there_is_one(
    value: object, ascii_only: bool, spaced: bool, as_bytes: bool
) -> None:
    text = _encode(value, ascii_only, spaced)
    given_text: str | bytes = text.encode() if as_bytes else text
    if _repeats(value):
        with pytest.raises(jsontext.DuplicateKey):
            jsontext.loads(given_text)
    else:
        assert jsontext.loads(given_text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a": "x:y", "a": "x:y"}',
        '{"a\\u003a": 1, "a": 2, "a": 3, "b": "\\u003a"}',  # an escaped colon cannot hide a repeat
        '{"a": {"b": 1, "b": ":"}}',
    ],
)
def test_repeats_the_fast_count_must_not_miss(text: str) -> None:
    for given_text in (text, text.encode()):
        with pytest.raises(jsontext.DuplicateKey):
            jsontext.loads(given_text)
