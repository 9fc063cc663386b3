"""Saved plans (``plan --out FILE``): the plan as JSON, sealed by its hash.

A saved plan is the JSON plan document (:meth:`Plan.to_json`): the changes with
their before and after specs, the state location, lineage and serial it was
made against, the time it was made, the hash of the desired resources, and a
``content_hash`` over all of that. ``apply FILE`` applies exactly those
changes, so the file must be the one that was reviewed: any edit makes the hash
mismatch and the plan is refused as altered. That the state has not moved on
and that nothing expired in between is checked at apply time
(:func:`accessplan.apply.check_plan`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

import orjson

from accessplan.errors import AccessplanError, PlanRefused
from accessplan.plan import FORMAT_VERSION, Plan

_REMAKE = "make a new plan with 'accessplan plan PATH --out FILE'"


def write_plan(plan: Plan, path: str | Path) -> None:
    """Write the plan whole (temporary file, then rename), so a reader never sees half of one."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        tmp.write_bytes(plan.to_bytes())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AccessplanError(f"could not write the plan: {exc.strerror} ({target})") from None


def read_plan(path: str | Path) -> Plan:
    """Read and verify a saved plan; refused if it is not one, or was altered."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AccessplanError(f"could not read the plan: {exc.strerror} ({name})") from None
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise AccessplanError(f"{name}: not a saved plan (not JSON)", _REMAKE) from None
    if not isinstance(doc, dict) or "content_hash" not in doc or "changes" not in doc:
        raise AccessplanError(f"{name}: not a saved plan", _REMAKE)
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise AccessplanError(f"{name}: saved plan has format_version {orjson.dumps(version).decode()}; this accessplan reads {FORMAT_VERSION}", _REMAKE)
    if doc["content_hash"] != _hash(doc):
        raise PlanRefused(f"{name}: the saved plan was altered after it was made (its content hash does not match)", _REMAKE)
    try:
        plan = Plan.from_json(doc)
    except (KeyError, ValueError, TypeError, AttributeError):
        raise PlanRefused(f"{name}: the saved plan is malformed", _REMAKE) from None
    if plan.compute_hash() != plan.content_hash:
        raise PlanRefused(f"{name}: the saved plan was altered after it was made (its content does not match its hash)", _REMAKE)
    return plan


def _hash(doc: dict[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "content_hash"}
    return "sha256:" + hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
