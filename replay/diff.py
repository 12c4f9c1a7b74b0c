"""The difference between two joint case views, as a list of changed leaves.

Nested objects are compared by dotted path; a list of objects that each carry one of
`ID_KEYS` is keyed by that id (`damage.claims[C-1].status`), any other list is one leaf, so
that a new claim shows as added rather than shifting every index after it. Null, absent and
empty values are the same thing (a field set to null shows as removed). Equal subtrees are
skipped whole, so a step costs what it changed, not the size of the view.
"""

from __future__ import annotations

from typing import Any

import orjson

ID_KEYS = (
    "claim_id",
    "decision_id",
    "aos_id",
    "objection_id",
    "complaint_id",
    "visit_id",
    "offer_id",
    "coordinator_ref",
    "id",
)
# The ledger's own bookkeeping changes at every step; renderers for people leave it out.
BOOKKEEPING = ("ledger.", "provenance.")
Change = dict[str, Any]


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _list_key(items: list[Any]) -> str | None:
    """The id key that tells the elements of a list of objects apart, if there is one."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in ID_KEYS:
        if key in items[0]:
            values = [i.get(key) for i in items]
            if all(isinstance(v, str | int) for v in values) and len(set(values)) == len(values):
                return key
    return None


def _as_tree(value: Any) -> Any:
    """A keyed list as a dict by id."""
    if isinstance(value, list):
        key = _list_key(value)
        if key is not None:
            return {f"[{item[key]}]": item for item in value}
    return value


def _join(prefix: str, key: str) -> str:
    if not prefix:
        return key
    return prefix + key if key.startswith("[") else f"{prefix}.{key}"


def _leaves(value: Any, prefix: str, out: list[tuple[str, Any]]) -> None:
    value = _as_tree(value)
    if _empty(value):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _leaves(item, _join(prefix, str(key)), out)
    else:
        out.append((prefix, value))


def _walk(old: Any, new: Any, prefix: str, out: list[Change]) -> None:
    if old == new:
        return
    if not isinstance(old, dict | list) and not isinstance(new, dict | list):  # two scalars
        if old is None:
            out.append({"path": prefix, "op": "added", "before": None, "after": new})
        elif new is None:
            out.append({"path": prefix, "op": "removed", "before": old, "after": None})
        else:
            out.append({"path": prefix, "op": "changed", "before": old, "after": new})
        return
    old, new = _as_tree(old), _as_tree(new)
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys(), key=str):
            before, after = old.get(key), new.get(key)
            if before != after:  # equal subtrees are skipped without a call
                _walk(before, after, _join(prefix, str(key)), out)
        return
    if isinstance(old, dict) or isinstance(new, dict) or _empty(old) or _empty(new):
        before_leaves: list[tuple[str, Any]] = []
        after_leaves: list[tuple[str, Any]] = []
        _leaves(old, prefix, before_leaves)
        _leaves(new, prefix, after_leaves)
        old_map, new_map = dict(before_leaves), dict(after_leaves)
        for path in sorted(old_map.keys() | new_map.keys()):
            if path not in old_map:
                out.append({"path": path, "op": "added", "before": None, "after": new_map[path]})
            elif path not in new_map:
                out.append({"path": path, "op": "removed", "before": old_map[path], "after": None})
            elif old_map[path] != new_map[path]:
                out.append({"path": path, "op": "changed", "before": old_map[path], "after": new_map[path]})
        return
    out.append({"path": prefix, "op": "changed", "before": old, "after": new})


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """Changed leaves `{"path", "op": added|removed|changed, "before", "after"}`, by path."""
    out: list[Change] = []
    _walk(before or {}, after or {}, "", out)
    return out


def for_people(changes: list[Change]) -> list[Change]:
    """The changes without the ledger's bookkeeping (event count, last hash)."""
    return [c for c in changes if not c["path"].startswith(BOOKKEEPING)]


class StepDiffer:
    """Diffs a sequence of views cheaply, comparing serialised bytes top-down: a top-level
    section whose bytes did not change is skipped whole; in one that did, each second-level
    value is compared the same way, a keyed list element by element, and only the parts that
    changed are decoded and walked. The result equals `diff(previous, view)`.

    A view passed to `step` may be mutated afterwards (the fold keeps going): the differ keeps
    its own bytes and decoded copies.
    """

    def __init__(self, baseline: dict[str, Any] | None) -> None:
        self._top: dict[str, bytes] = {}  # top-level key -> bytes
        self._sections: dict[str, list[str]] = {}  # top-level key -> its section paths
        self._section_bytes: dict[str, bytes] = {}
        self._elements: dict[str, list[str]] = {}  # keyed-list section -> its element paths
        self._leaf_bytes: dict[str, bytes] = {}
        self._leaves: dict[str, Any] = {}  # decoded copies of what was walked
        if baseline:
            self.step(baseline)

    def step(self, view: dict[str, Any]) -> list[Change]:
        """The changes from the previous view to `view`."""
        out: list[Change] = []
        dumps = orjson.dumps
        for key in sorted(view.keys() | self._top.keys()):
            value = view.get(key)
            raw = dumps(value)
            if raw == self._top.get(key, b"null"):
                continue
            self._top[key] = raw
            if isinstance(value, dict) and value:
                sections = {f"{key}.{child}": item for child, item in value.items()}
            else:
                sections = {key: value}
            for path in sorted(sections.keys() | set(self._sections.get(key, ()))):
                item = sections.get(path)
                section = dumps(item)
                if section == self._section_bytes.get(path, b"null"):
                    continue
                self._section_bytes[path] = section
                id_key = _list_key(item) if isinstance(item, list) else None
                before = self._elements.pop(path, None)
                if id_key is None and before is None:
                    self._leaf(path, section, out)
                    continue
                if id_key is not None and path in self._leaf_bytes:  # was one leaf, now split
                    self._leaf(path, b"null", out)
                elements = {f"{path}[{e[id_key]}]": e for e in item or ()} if id_key else {path: item}
                for element in sorted(elements.keys() | set(before or ())):
                    self._leaf(element, dumps(elements.get(element)), out)
                if id_key is not None:
                    self._elements[path] = list(elements)
            self._sections[key] = list(sections)
        return out

    def _leaf(self, path: str, raw: bytes, out: list[Change]) -> None:
        if raw == self._leaf_bytes.get(path, b"null"):
            return
        new = orjson.loads(raw)
        _walk(self._leaves.get(path), new, path, out)
        self._leaf_bytes[path] = raw
        self._leaves[path] = new
