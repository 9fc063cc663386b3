"""The plan as a pull-request comment (``plan --format markdown``).

A reviewer reads it top to bottom and may stop early, so it comes in order of
importance: the summary, the escalations (what ``apply`` refuses without
``--allow-escalation``), the access-impact table (each distinct change of
access once, with how many people it reaches in which accounts), warnings,
then one collapsible ``<details>`` per account with each person's impact and
each change.

GitHub refuses comments over 65,536 characters, and a large change would
otherwise vanish from the pull request altogether. The document is therefore
assembled part by part against a budget of :data:`LIMIT` characters: the
summary and the escalations are kept whole — person by person, or, when that
table alone would not fit, counted by what they give (people and accounts per
kind), so that none goes unmentioned — then table rows, warnings and details
are added while they fit, and whatever was left out is named in an explicit
"Truncated" note pointing at the JSON plan.

Every user-supplied string passes the ``md`` filter
(:mod:`accessplan.render.mdescape`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from accessplan.desired import split_address
from accessplan.escalation import KINDS, Escalation
from accessplan.plan import Action, Change, Plan
from accessplan.render import macros
from accessplan.render.impact_view import PeopleGroup, by_change, by_customer, totals
from accessplan.render.mdescape import size
from accessplan.render.text import SYMBOLS, fields, summary_line

#: The most a comment may hold (GitHub's limit is 65,536), in UTF-16 code units.
LIMIT = 65_000
#: Kept free for the "Truncated" note.
_RESERVE = 500


@dataclass(frozen=True, slots=True)
class EscalationRow:
    """What one person gains that escalates, with every account where they gain exactly that."""

    user: str
    labels: tuple[str, ...]  # in the order of escalation.KINDS
    deferred: bool
    accounts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FieldItem:
    name: str
    mark: str
    text: str


@dataclass(frozen=True, slots=True)
class ChangeItem:
    symbol: str
    verb: str
    address: str
    reason: str
    fields: tuple[FieldItem, ...]


@dataclass(frozen=True, slots=True)
class AccountDetails:
    name: str
    deferred: bool
    groups: tuple[PeopleGroup, ...]
    changes: tuple[ChangeItem, ...]

    @property
    def people(self) -> int:
        return sum(len(g.users) for g in self.groups)


@dataclass(frozen=True, slots=True)
class EscalationKind:
    """One escalation (by what it gives) counted over people and accounts: for plans too large to list them."""

    label: str
    deferred: bool
    people: int
    accounts: int


def escalation_kinds(escalations: Sequence[Escalation]) -> list[EscalationKind]:
    found: dict[tuple[bool, int, str], tuple[set[str], set[str]]] = {}
    for e in escalations:
        people, accounts = found.setdefault((e.deferred, KINDS.index(e.kind), e.label), (set(), set()))
        people.add(e.user)
        accounts.add(e.customer)
    return [EscalationKind(label, deferred, len(people), len(accounts)) for (deferred, _, label), (people, accounts) in sorted(found.items())]


def escalation_rows(escalations: Sequence[Escalation]) -> list[EscalationRow]:
    """Escalations grouped by (status, person, what they gain): every account listed, none left out."""
    per_pair: dict[tuple[bool, str, str], list[tuple[int, str]]] = {}
    for e in escalations:
        per_pair.setdefault((e.deferred, e.user, e.customer), []).append((KINDS.index(e.kind), e.label))
    found: dict[tuple[bool, str, tuple[str, ...]], list[str]] = {}
    for (deferred, user, account), kinds in per_pair.items():
        found.setdefault((deferred, user, tuple(label for _, label in sorted(kinds))), []).append(account)
    return [EscalationRow(user, labels, deferred, tuple(sorted(accounts))) for (deferred, user, labels), accounts in sorted(found.items())]


def _account_of(change: Change) -> str:
    kind, account, _ = split_address(change.address)
    return account if kind not in ("partner", "customer") else change.address.split("/", 1)[1]


def account_details(plan: Plan) -> list[AccountDetails]:
    """Per account (live first): its people's impact and its changes."""
    changes: dict[str, list[ChangeItem]] = {}
    for change in plan.changes:
        symbol, verb, _ = SYMBOLS[change.action]
        items = tuple(FieldItem(n, m, t) for n, m, t in fields(change))
        changes.setdefault(_account_of(change), []).append(ChangeItem(symbol, verb, change.address, change.reason.value, items))
    impact = {c.customer: c for c in by_customer(plan.impact)}
    partner = plan.partner

    def deferred(account: str) -> bool:
        """Nothing of the account applies now: its impact waits, and every change of it is deferred."""
        items = changes.get(account, [])
        waits = impact[account].deferred if account in impact else bool(items)
        return waits and all(c.symbol == SYMBOLS[Action.DEFER][0] for c in items)

    out = []
    for account in sorted(set(changes) | set(impact), key=lambda a: (deferred(a), a != partner, a)):
        name = f"{account} (partner)" if account == partner else account
        groups = impact[account].groups if account in impact else ()
        out.append(AccountDetails(name, deferred(account), groups, tuple(changes.get(account, ()))))
    return out


@dataclass(slots=True)
class _Document:
    """Parts of the comment, added while they fit the budget."""

    limit: int
    parts: list[str] = field(default_factory=list)
    used: int = 0
    omitted: list[str] = field(default_factory=list)
    closed: bool = False  # the escalations were cut: nothing after them is shown

    def room(self) -> int:
        return -1 if self.closed else self.limit - _RESERVE - self.used

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.used += size(text) + 2  # the blank line between parts

    def fits(self, text: str) -> bool:
        return size(text) + 2 <= self.room()

    def fits_first(self, text: str) -> bool:
        """Whether ``text`` fits using the room kept for later parts too."""
        return size(text) + 2 <= self.limit - _RESERVE - self.used

    def table(self, head: str, rows: Sequence[str], what: str, *, whole: bool = False) -> None:
        """``head`` and as many rows as fit.

        ``whole``: the table may use the room kept for later parts; if even so
        it is cut, nothing after it is shown (it matters more than they do).
        """
        if not rows:
            return
        body = [head]
        used = size(head) + 2
        budget = self.limit - _RESERVE - self.used if whole else self.room()
        kept = 0
        for row in rows:
            cost = size(row) + 1
            if used + cost > budget:
                break
            body.append(row)
            used += cost
            kept += 1
        if kept < len(rows):
            self.omitted.append(f"{len(rows) - kept} of {len(rows)} {what}" if kept else f"{len(rows)} {what}")
            self.closed = self.closed or whole
        if kept:
            self.add("\n".join(body))


def render_plan_markdown(plan: Plan, *, limit: int = LIMIT) -> str:
    """The comment, at most ``limit`` UTF-16 code units, ending with a newline."""
    m = macros("plan.md.j2")
    t = totals(plan.impact)
    doc = _Document(limit)
    doc.add(_str(m.summary, plan, summary_line(plan), t, plan.has_changes))
    if plan.escalations:
        live = sum(1 for e in plan.escalations if not e.deferred)
        rows = [_str(m.escalation_row, r) for r in escalation_rows(plan.escalations)]
        table = "\n".join([_str(m.escalations_head, live, len(plan.escalations) - live), *rows])
        if doc.fits_first(table):
            doc.add(table)
        else:  # too many to list person by person: every one counted, by what it gives
            kinds = [_str(m.escalation_kind_row, k) for k in escalation_kinds(plan.escalations)]
            doc.table(_str(m.escalation_kinds_head, live, len(plan.escalations) - live), kinds, "escalation kinds", whole=True)
            doc.omitted.append(f"the person-by-person escalation table ({len(rows)} rows, counted by kind above)")
    if plan.impact:
        rows = [_str(m.impact_row, r) for r in by_change(plan.impact)]
        doc.table(_str(m.impact_head), rows, "access-impact row" + ("s" if len(rows) != 1 else ""))
    if plan.warnings:
        text = _str(m.warnings, plan.warnings)
        if doc.fits(text):
            doc.add(text)
        else:
            doc.omitted.append(f"{len(plan.warnings)} warning" + ("s" if len(plan.warnings) != 1 else ""))
    details = account_details(plan)
    left = 0
    for account in details:
        text = _str(m.details, account)
        if doc.fits(text):
            doc.add(text)
        else:
            left += 1
    if left:
        doc.omitted.append(f"the details of {left} of {len(details)} account" + ("s" if len(details) != 1 else ""))
    if doc.omitted:
        doc.parts.append(_str(m.truncated, _and(doc.omitted), limit))
    text = "\n\n".join(doc.parts) + "\n"
    if size(text) > limit:  # only a summary longer than the limit gets here (a state location of 65,000 characters)
        note = "\n\n" + _str(m.truncated, "everything after this point", limit) + "\n"
        text = _prefix(text, limit - size(note)) + note
    return text


def _prefix(text: str, units: int) -> str:
    """The longest start of ``text`` that is at most ``units`` UTF-16 code units long."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            return text[:i]
    return text


def _str(macro: Callable[..., object], *args: object) -> str:
    return str(macro(*args)).strip("\n")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
