"""The plan (and the state) as plain text, the way Terraform shows a plan.

One block per change, ``+ create``, ``~ update``, ``- destroy`` and ``> defer``
(listed, not applied), with the fields a reviewer needs: every field of a new
resource, the field-level diff of an update (elements added ``+``, removed
``-``, values replaced ``old -> new``). Escalations come first, then the access
impact (per account, people whose access changes alike grouped, with counts),
then the changes, warnings after them, and the last line is always
``Plan: A to add, C to change, D to destroy, F deferred.``

Values are shown as JSON (strings quoted), so an empty string, ``null`` and a
list are told apart; all of it is sanitized.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from accessplan.desired import KIND_RANK
from accessplan.errors import sanitize
from accessplan.plan import Action, Change, Plan
from accessplan.render import template
from accessplan.render.impact_view import by_customer, totals
from accessplan.specdiff import value_at

SYMBOLS = {
    Action.CREATE: ("+", "create", "green"),
    Action.UPDATE: ("~", "update", "yellow"),
    Action.DELETE: ("-", "destroy", "red"),
    Action.DEFER: (">", "defer", "cyan"),
}

#: Colours of the access-impact lines: gained, lost, changed.
LINE_STYLES = {"+": "green", "-": "red", "~": "yellow"}


def value(data: Any) -> str:
    """A value as JSON with a space after each separator, sanitized."""
    return sanitize(_json(data))


def _json(data: Any) -> str:
    if isinstance(data, list):
        return "[" + ", ".join(_json(v) for v in data) + "]"
    if isinstance(data, dict):
        return "{" + ", ".join(f"{_json(str(k))}: {_json(data[k])}" for k in sorted(data)) + "}"
    return orjson.dumps(data).decode()


@dataclass(frozen=True, slots=True)
class FieldLine:
    name: str  # padded
    mark: str  # "+", "-", "" (replaced) or " " (shown)
    text: str


@dataclass(frozen=True, slots=True)
class Block:
    symbol: str
    verb: str
    style: str
    address: str
    reason: str
    fields: tuple[FieldLine, ...]


def fields(change: Change) -> list[tuple[str, str, str]]:
    """``(field, mark, text)`` per line of a change: ``" "`` shown, ``+``/``-`` elements, ``""`` replaced."""
    if change.action is Action.CREATE and change.after is not None:
        return [(name, " ", value(v)) for name, v in sorted(change.after.items())]
    if change.action in (Action.UPDATE, Action.DEFER) and change.before is not None and change.after is not None:
        lines: list[tuple[str, str, str]] = []
        for name in sorted(set(change.added) | set(change.removed) | set(change.changed)):
            if name in change.added:
                lines.append((name, "+", ", ".join(value(v) for v in change.added[name])))
            if name in change.removed:
                lines.append((name, "-", ", ".join(value(v) for v in change.removed[name])))
            if name in change.changed:
                old = value_at(change.before, name)
                lines.append((name, "", f"{value(old)} -> {value(change.changed[name])}"))
        return lines
    return []


def block(change: Change) -> Block:
    symbol, verb, style = SYMBOLS[change.action]
    raw = fields(change)
    width = max((len(sanitize(n)) for n, _, _ in raw), default=0) + 1
    lines = tuple(FieldLine(f"{sanitize(n) + ':':<{width}}", mark, text) for n, mark, text in raw)
    return Block(symbol, verb, style, sanitize(change.address), change.reason.value, lines)


def summary_line(plan: Plan) -> str:
    s = plan.summary
    return f"Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy, {s['defer']} deferred."


def render_plan(plan: Plan, *, color: bool) -> str:
    """The whole text plan, ending with the summary line and a newline."""
    render = template("plan.txt.j2", color)
    live = [e for e in plan.escalations if not e.deferred]
    return render(
        plan=plan,
        impact=by_customer(plan.impact),
        totals=totals(plan.impact),
        line_styles=LINE_STYLES,
        blocks=[block(c) for c in plan.changes],
        escalations=plan.escalations,
        live_escalations=len(live),
        deferred_escalations=len(plan.escalations) - len(live),
        warnings=plan.warnings,
        forgotten=len(set(plan.forget) - {c.address for c in plan.changes}),
        has_changes=plan.has_changes,
        summary=summary_line(plan),
    )


def render_state(state: Any, location: str, *, color: bool) -> str:
    """``accessplan show``: every resource of the state, its status and its spec."""
    render = template("show.txt.j2", color)
    resources = []
    if state is not None:
        for addr in sorted(state.resources, key=lambda a: (KIND_RANK.get(a.split("/", 1)[0], len(KIND_RANK)), a)):
            res = state.resources[addr]
            status = ", ".join(f"{sanitize(k)}: {value(v)}" for k, v in sorted((res.get("status") or {}).items()))
            spec = res.get("spec") or {}
            width = max((len(sanitize(k)) for k in spec), default=0) + 1
            fields = [(f"{sanitize(k) + ':':<{width}}", value(v)) for k, v in sorted(spec.items())]
            resources.append({"address": sanitize(addr), "status": status, "fields": fields})
    return render(state=state, location=location, resources=resources)
