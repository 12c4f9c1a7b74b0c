"""JSON text in, values out, refusing an object that names a key twice (events §1, version 1.1).

Parsers disagree about `{"subject": "A", "subject": "B"}` (first wins, last wins, error), so a
submission with a repeated key could be read as two different events. orjson keeps the last
silently; this module counts the keys in the text and in the parsed value, which differ exactly
when a key repeats, and only then parses once more, slowly, to name the repeated key's path.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Every JSON string token in order; a trailing colon marks an object key. In valid JSON text a
# double quote outside a string always opens one, so scanning from the left never starts inside.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"\s*(:)?', re.DOTALL)
_STRING_BYTES = re.compile(rb'"(?:[^"\\]|\\.)*"\s*(:)?', re.DOTALL)


class DuplicateKey(ValueError):
    """An object in the text names the same key twice; `path` is where (JSON path of the key)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} appears more than once in its object")
        self.path = path


def loads(text: bytes | str, prefix: str = "$") -> Any:
    """Parse JSON text like `orjson.loads`; raise `DuplicateKey` when an object repeats a key.

    Raises `orjson.JSONDecodeError` for text that is not JSON.
    """
    value = orjson.loads(text)
    if (
        isinstance(value, dict | list)
        and not _same_colons(text, value)
        and _keys_in_text(text) != _keys_in_value(value)
    ):
        raise DuplicateKey(_first_repeat(text, prefix))
    return value


def _same_colons(text: bytes | str, value: Any) -> bool:
    """The fast proof that no key repeats: as many colons in the text as in the value re-encoded.

    A colon outside a string separates a key from its value, so the text holds (its keys) + (the
    colons inside its strings); orjson's encoding of the parsed value holds (the value's keys) +
    (the colons inside the value's strings), since it never escapes a colon. A repeated key
    drops a pair from the value, so the value has fewer keys, and no string colon more — unless
    a `\\u` escape spells a colon (`\\u003a`) that is no colon in the text: such texts take
    the slow count. True means no key repeats; False means "count them".
    """
    if b"\\u" in text if isinstance(text, bytes) else "\\u" in text:
        return False
    try:
        encoded = orjson.dumps(value)
    except orjson.JSONEncodeError:  # not reached for parsed JSON; the slow count decides then
        return False
    return (text.count(b":") if isinstance(text, bytes) else text.count(":")) == encoded.count(b":")


def _keys_in_text(text: bytes | str) -> int:
    if isinstance(text, bytes):
        return sum(1 for m in _STRING_BYTES.finditer(text) if m.group(1))
    return sum(1 for m in _STRING.finditer(text) if m.group(1))


def _keys_in_value(value: Any) -> int:
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += len(item)
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
    return count


class _Pairs(list[tuple[str, Any]]):
    """An object as the standard parser saw it: every (key, value) pair, repeats included."""


def _first_repeat(text: bytes | str, prefix: str) -> str:
    tree = json.loads(text, object_pairs_hook=_Pairs)
    stack: list[tuple[Any, str]] = [(tree, prefix)]
    while stack:
        item, path = stack.pop(0)
        if isinstance(item, _Pairs):
            seen: set[str] = set()
            for key, inner in item:
                if key in seen:
                    return f"{path}.{key}"
                seen.add(key)
                stack.append((inner, f"{path}.{key}"))
        elif isinstance(item, list):
            stack.extend((inner, f"{path}[{i}]") for i, inner in enumerate(item))
    return prefix  # not reached: the counts differ only when a key repeats
