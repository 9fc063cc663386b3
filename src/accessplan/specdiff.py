"""Field-level differences between two specs: what was added, removed, changed.

These are the seed's views of an access update: the *original* (``before``), the
*updated* (``after``), the *addition* and *subtraction* of elements, and the
*new values* of fields that were replaced. A spec is a flat record whose values
are scalars, sorted lists, or small mappings, so plain set and dict operations
give the answer; DeepDiff would cost about a millisecond per resource (see
PERF-NOTES), which a bulk change of 100,000 assignments cannot afford.

Rules, per field (nested mappings are walked, their fields named ``outer.inner``):

* a list on both sides: elements only in ``after`` go to ``added[field]``,
  elements only in ``before`` to ``removed[field]`` (each in list order); a list
  that differs only in order goes to ``changed[field]``;
* a mapping on both sides: each of its keys is compared as a field;
* anything else that differs (a scalar, a type change, a field that appears or
  disappears): ``changed[field]`` is the new value (``None`` when it disappeared).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import orjson

Fields = dict[str, Any]

_MISSING: Any = object()


def _key(value: Any) -> Hashable:
    """A hashable identity for a list element (mappings and lists by canonical JSON)."""
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    return value  # type: ignore[no-any-return]


def spec_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[Fields, Fields, Fields]:
    """``(added, removed, changed)`` between two specs, keyed by (dotted) field name."""
    added: Fields = {}
    removed: Fields = {}
    changed: Fields = {}
    _walk("", before, after, added, removed, changed)
    return added, removed, changed


def _walk(prefix: str, before: Mapping[str, Any], after: Mapping[str, Any], added: Fields, removed: Fields, changed: Fields) -> None:
    for name in sorted(set(before) | set(after)):
        old = before.get(name, _MISSING)
        new = after.get(name, _MISSING)
        if old == new:
            continue
        path = f"{prefix}{name}"
        if isinstance(old, list) and isinstance(new, list):
            old_keys = {_key(v) for v in old}
            new_keys = {_key(v) for v in new}
            plus = [v for v in new if _key(v) not in old_keys]
            minus = [v for v in old if _key(v) not in new_keys]
            if plus:
                added[path] = plus
            if minus:
                removed[path] = minus
            if not plus and not minus:
                changed[path] = new
        elif isinstance(old, dict) and isinstance(new, dict):
            _walk(f"{path}.", old, new, added, removed, changed)
        else:
            changed[path] = None if new is _MISSING else new


def value_at(spec: Mapping[str, Any] | None, path: str) -> Any:
    """The value at a dotted field path of ``spec`` (``None`` if absent), for "old -> new" displays.

    A key may itself contain dots (a label name): the longest key that exists wins.
    """
    return _at(spec, path.split("."))


def _at(node: Any, parts: list[str]) -> Any:
    if not parts:
        return node
    if not isinstance(node, Mapping):
        return None
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in node:
            return _at(node[key], parts[i:])
    return None
