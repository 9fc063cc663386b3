"""The access impact as a reviewer reads it: one line per difference, grouped.

A role redefinition can change the access of a thousand analysts in the same
way; listing the same four lines a thousand times hides the one person whose
change differs. So the entries of :mod:`accessplan.impact` are described as
lines without the person (``~ InsightIDR/Collector: View Only -> Administer``),
and people whose lines are equal are grouped: per customer for the text plan
and the Markdown details, across customers (with a count per customer) for the
Markdown table. Strings here are raw: each renderer escapes them for its
medium.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from accessplan import lifecycle as lc
from accessplan.impact import NEW, REMOVED, Impact

Line = tuple[str, str]  # (mark, text): "+" gained, "-" lost, "~" changed


def expiry_text(value: str) -> str:
    """``permanent``, ``until <time>``, or ``<n>h from apply``."""
    if value == lc.PERMANENT:
        return "permanent"
    if value[-1:] == "h" and value[:-1].isdigit():
        return f"{value} from apply"
    return f"until {value}"


def lines(entry: Impact) -> tuple[Line, ...]:
    """What changes for the person, in the order of :data:`accessplan.impact.KEYS`."""
    gained, lost = entry.gained, entry.lost
    out: list[Line] = []
    if entry.access == NEW:
        expiry = gained.get("expiry")
        out.append(("+", "new access" + (f", {expiry_text(expiry)}" if expiry else "")))
    elif entry.access == REMOVED:
        out.append(("-", "all access removed"))
    if gained.get("platform_admin"):
        out.append(("+", "platform administrator"))
    if lost.get("platform_admin"):
        out.append(("-", "platform administrator"))
    for mark, side in (("+", gained), ("-", lost)):
        if side.get("products"):
            out.append((mark, "products: " + ", ".join(side["products"])))
    out.extend(_features(gained.get("features") or {}, lost.get("features") or {}))
    for mark, side in (("+", gained), ("-", lost)):
        if side.get("logs"):
            out.append((mark, "logs: " + ", ".join(side["logs"])))
    if entry.access not in (NEW, REMOVED) and ("expiry" in gained or "expiry" in lost):
        old, new = lost.get("expiry"), gained.get("expiry")
        out.append(("~", f"expiry: {expiry_text(old) if old else 'none'} -> {expiry_text(new) if new else 'none'}"))
    return tuple(out)


def _features(gained: Mapping[str, Mapping[str, str]], lost: Mapping[str, Mapping[str, str]]) -> list[Line]:
    out: list[Line] = []
    for product in sorted(set(gained) | set(lost)):
        new, old = gained.get(product) or {}, lost.get(product) or {}
        for feature in sorted(set(new) | set(old)):
            name = f"{product}/{feature}"
            if feature in new and feature in old:
                out.append(("~", f"{name}: {old[feature]} -> {new[feature]}"))
            elif feature in new:
                out.append(("+", f"{name}: {new[feature]}"))
            else:
                out.append(("-", f"{name}: {old[feature]}"))
    return out


@dataclass(frozen=True, slots=True)
class PeopleGroup:
    """People of one customer whose access changes alike."""

    lines: tuple[Line, ...]
    users: tuple[str, ...]
    escalation: bool


@dataclass(frozen=True, slots=True)
class CustomerImpact:
    """Everyone whose access changes in one account."""

    customer: str
    deferred: bool
    groups: tuple[PeopleGroup, ...]

    @property
    def people(self) -> int:
        return sum(len(g.users) for g in self.groups)

    @property
    def escalated(self) -> int:
        return sum(len(g.users) for g in self.groups if g.escalation)


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One way access changes, with how many people it reaches in which customers."""

    lines: tuple[Line, ...]
    escalation: bool
    deferred: bool
    customers: tuple[tuple[str, int], ...]  # (customer, people), by customer

    @property
    def people(self) -> int:
        return sum(n for _, n in self.customers)


def _group_key(item: tuple[tuple[Line, ...], bool]) -> tuple[bool, tuple[Line, ...]]:
    return (not item[1], item[0])


def by_customer(entries: Iterable[Impact]) -> list[CustomerImpact]:
    """Per account (live ones first), people grouped by equal lines, escalations first."""
    found: dict[tuple[bool, str], dict[tuple[tuple[Line, ...], bool], list[str]]] = {}
    for entry in entries:
        groups = found.setdefault((entry.deferred, entry.customer), {})
        groups.setdefault((lines(entry), entry.escalation), []).append(entry.user)
    out: list[CustomerImpact] = []
    for (deferred, customer), groups in sorted(found.items()):
        ordered = sorted(groups.items(), key=lambda kv: _group_key(kv[0]))
        out.append(CustomerImpact(customer, deferred, tuple(PeopleGroup(k[0], tuple(sorted(v)), k[1]) for k, v in ordered)))
    return out


def by_change(entries: Iterable[Impact]) -> list[ChangeRow]:
    """Across accounts: each distinct change once, escalations first, then the most widespread."""
    found: dict[tuple[tuple[Line, ...], bool, bool], dict[str, int]] = {}
    for entry in entries:
        counts = found.setdefault((lines(entry), entry.escalation, entry.deferred), {})
        counts[entry.customer] = counts.get(entry.customer, 0) + 1
    rows = [ChangeRow(k[0], k[1], k[2], tuple(sorted(v.items()))) for k, v in found.items()]
    rows.sort(key=lambda r: (r.deferred, not r.escalation, -r.people, r.lines))
    return rows


def totals(entries: Iterable[Impact]) -> dict[str, int]:
    """Counts for a headline: pairs, distinct people, accounts, escalated pairs, deferred pairs."""
    entries = list(entries)
    return {
        "pairs": len(entries),
        "people": len({e.user for e in entries}),
        "customers": len({e.customer for e in entries}),
        "escalated": sum(1 for e in entries if e.escalation),
        "deferred": sum(1 for e in entries if e.deferred),
    }
