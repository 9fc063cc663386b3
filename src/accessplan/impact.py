"""Access impact: who gains or loses which access through a plan (SPEC section 5).

A configuration diff answers "which resources change"; a reviewer needs "who
can do what afterwards". One redefined custom role, one group edit or one log
added to a selected set changes nothing on the people's own resources, yet
reaches everyone holding that role, group or set. So both sides go through the
one access engine (:class:`~accessplan.access.AccessModel`): *before* over the
live resources of state (tombstones and assignments past their ``expires_at``
left out), *after* over the effective desired resources (dead assignments and
their memberships removed; deferred ones kept and marked), with the state as
``baseline`` so that a log-set selection made with one of its logs restricted
keeps the logs it covered then (seed).

The same pass yields the escalations (:mod:`accessplan.escalation`): both are
judged on one pair of access records, so the models are built once.

Scope and cost: only the (account, user) pairs the plan touches are compared
(:mod:`accessplan.impact_scope` says which), and only the accounts they are in
are indexed; the engine over the desired resources that ``validate`` built is
reused. The engine shares the role arithmetic of equal combinations, so a role
change reaching a thousand analysts costs one evaluation per distinct
combination plus a comparison per analyst.

An entry, as the JSON plan carries it (documented in the README)::

    {"customer": "globex", "user": "bob@acme.example", "access": "changed",
     "gained": {"features": {"InsightIDR": {"Collector": "Administer"}}},
     "lost": {"features": {"InsightIDR": {"Collector": "View Only"}}},
     "escalation": true, "deferred": false}

``customer`` is the account (the partner's id for the partner's own people);
``access`` is ``new`` (no access before), ``removed`` (none after) or
``changed``; ``gained`` and ``lost`` hold only the keys that differ among
``platform_admin`` (``true``), ``products`` (sorted names), ``features``
(product -> feature -> level: a level change appears in both, the new level
gained, the old one lost), ``logs`` (sorted names) and ``expiry``
(``permanent``, the UTC time access ends, or ``<n>h`` counted from the apply
that stamps it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accessplan import lifecycle as lc
from accessplan.escalation import Escalation, escalations_of, sort_key
from accessplan.impact_scope import Addresses, role_holders, touched

if TYPE_CHECKING:
    from accessplan.access import AccessModel
    from accessplan.access_types import Access
    from accessplan.plan import Change, Reason

#: The keys ``gained`` and ``lost`` may hold, in the order they are described.
KEYS = ("platform_admin", "products", "features", "logs", "expiry")
NEW, REMOVED, CHANGED = "new", "removed", "changed"

_FeatureMap = dict[tuple[str, str], str]


@dataclass(frozen=True, slots=True)
class Impact:
    """What one person gains and loses in one account through a plan."""

    customer: str
    user: str
    access: str  # new | removed | changed
    gained: Mapping[str, Any]
    lost: Mapping[str, Any]
    escalation: bool
    deferred: bool  # inside a pending or revoked customer: happens once it approves

    def sort_key(self) -> tuple[bool, str, str]:
        return (self.deferred, self.customer, self.user)

    def to_json(self) -> dict[str, Any]:
        return {
            "access": self.access,
            "customer": self.customer,
            "deferred": self.deferred,
            "escalation": self.escalation,
            "gained": dict(self.gained),
            "lost": dict(self.lost),
            "user": self.user,
        }

    @staticmethod
    def from_json(doc: Mapping[str, Any]) -> Impact:
        if doc["access"] not in (NEW, REMOVED, CHANGED):
            raise ValueError(f"unknown impact access {doc['access']!r}")
        return Impact(
            customer=str(doc["customer"]),
            user=str(doc["user"]),
            access=str(doc["access"]),
            gained=_side(doc["gained"]),
            lost=_side(doc["lost"]),
            escalation=bool(doc["escalation"]),
            deferred=bool(doc["deferred"]),
        )


def _side(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not set(value) <= set(KEYS):
        raise ValueError("gained/lost must be a mapping of " + ", ".join(KEYS))
    return value


class _Expiries:
    """When each side's access ends, in the terms a reviewer can compare.

    Before: the ``expires_at`` state stamped (or the spec's expiry if it never
    was). After: the same stamp while the assignment keeps its expiry (apply
    does not stamp it again), else the spec's expiry — ``<n>h`` then counts
    from the apply that creates it. So an unchanged 48-hour grant shows no
    expiry change, and neither does a relative expiry exported as the ``until``
    it resolved to.
    """

    def __init__(self, current: Mapping[str, Mapping[str, Any]], changes: Mapping[str, Change]) -> None:
        from accessplan.plan import Action, Reason

        self.current = current
        self.changes = changes
        self.update, self.renewed = Action.UPDATE, Reason.RENEWED

    def before(self, addr: str) -> str | None:
        res = self.current.get(addr)
        if res is None:
            return None
        return lc.expires_at(res.get("status")) or str(res["spec"].get("expiry") or lc.PERMANENT)

    def after(self, addr: str, spec: Mapping[str, Any] | None) -> str | None:
        if spec is None:
            return None
        expiry = str(spec.get("expiry") or lc.PERMANENT)
        res = self.current.get(addr)
        change = self.changes.get(addr)
        if res is not None and not lc.is_tombstone(res.get("status")):
            kept = change is None or (
                change.action is self.update and change.reason is not self.renewed and res["spec"].get("expiry") == expiry
            )
            if kept:
                return lc.expires_at(res.get("status")) or expiry
        return expiry


class _Compare:
    """Gained/lost between two access records; feature maps cached per shared features tuple."""

    def __init__(self) -> None:
        self._maps: dict[int, tuple[Any, _FeatureMap]] = {}

    def features(self, acc: Access | None) -> _FeatureMap:
        if acc is None:
            return {}
        key = id(acc.features)
        hit = self._maps.get(key)
        if hit is None:
            # keep the tuple alive with its map, so that its id is never reused
            hit = self._maps[key] = (acc.features, {(fl.product, fl.feature): fl.level for fl in acc.features})
        return hit[1]

    def sides(self, had: Access | None, now: Access | None, exp_before: str | None,
              exp_after: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        gained: dict[str, Any] = {}
        lost: dict[str, Any] = {}
        admin_before = had is not None and had.platform_admin
        admin_after = now is not None and now.platform_admin
        if admin_after and not admin_before:
            gained["platform_admin"] = True
        elif admin_before and not admin_after:
            lost["platform_admin"] = True
        p_before = had.products if had is not None else ()
        p_after = now.products if now is not None else ()
        if p_before != p_after:
            _put(gained, "products", sorted(set(p_after) - set(p_before)))
            _put(lost, "products", sorted(set(p_before) - set(p_after)))
        if had is None or now is None or had.features is not now.features:
            f_before, f_after = self.features(had), self.features(now)
            if f_before != f_after:
                _put(gained, "features", _nest({k: v for k, v in f_after.items() if f_before.get(k) != v}))
                _put(lost, "features", _nest({k: v for k, v in f_before.items() if f_after.get(k) != v}))
        l_before = (had.logs if had is not None else None) or frozenset()
        l_after = (now.logs if now is not None else None) or frozenset()
        if l_before is not l_after and l_before != l_after:
            _put(gained, "logs", sorted(l_after - l_before))
            _put(lost, "logs", sorted(l_before - l_after))
        if exp_before != exp_after:
            if exp_after is not None:
                gained["expiry"] = exp_after
            if exp_before is not None:
                lost["expiry"] = exp_before
        return gained, lost


def _put(side: dict[str, Any], key: str, value: Any) -> None:
    if value:
        side[key] = value


def _nest(flat: _FeatureMap) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for (product, feature), level in sorted(flat.items()):
        out.setdefault(product, {})[feature] = level
    return out


def access_impact(
    current: Mapping[str, Mapping[str, Any]],
    effective: Mapping[str, Mapping[str, Any]],
    changes: Iterable[Change],
    blocked: Mapping[str, Reason],
    lapsed: AbstractSet[str],
    *,
    desired_model: AccessModel | None = None,
) -> tuple[tuple[Impact, ...], tuple[Escalation, ...]]:
    """The impact entries and escalations of moving from ``current`` (state resources) to ``effective`` (specs).

    ``lapsed``: the assignments of ``current`` that give no access any more
    (tombstones, and those past their ``expires_at``); ``blocked``: customer id
    -> why its changes are deferred; ``desired_model``: the engine over
    ``effective`` if one was built already (``validate`` builds it).
    """
    from accessplan.access import AccessModel
    from accessplan.loader import no_gc

    changes = list(changes)
    scope = touched(changes)
    accounts = scope.accounts
    if not accounts:
        return (), ()
    with no_gc():
        state = Addresses(current, state=True, skip=lapsed)
        desired = Addresses(effective)
        partner = next((addr.split("/", 1)[1] for addr in desired.run("partner/")), None)
        if partner:
            accounts.add(partner)
        # Index only the accounts the plan touches; when that is most of them,
        # picking them out would cost more than it saves.
        everything = 4 * len(accounts) > 3 * len(desired.run("customer/"))
        before_specs = state.everything() if everything else state.subset(sorted(accounts))
        if desired_model is None:
            desired_model = AccessModel(effective if everything else desired.subset(sorted(accounts)))
        log_accounts = scope.logs | ({partner} if scope.logs and partner else set())
        models = _Models(AccessModel(before_specs), desired_model, desired, log_accounts, before_specs)
        after_specs = effective  # looked up, never walked: the whole of it costs nothing more
        pairs = scope.pairs
        if scope.roles:
            pairs |= role_holders(state, scope.roles) | role_holders(desired, scope.roles)
        for account in scope.whole:
            pairs.update((account, user) for user in models.after(account).users(account))
            pairs.update((account, user) for user in models.before.users(account))
        return _compare(sorted(pairs), models, before_specs, after_specs, current, changes, blocked, lapsed)


class _Models:
    """The access engine before and after the plan.

    After the plan, a log-set selection made with one of the set's logs
    restricted keeps the logs it covered when it was made, which only the
    state (the *baseline*) remembers. That costs a log evaluation per person
    instead of one per combination, so the baseline model covers only the
    accounts whose log sets or logs change; in every other account the
    baseline would change nothing.
    """

    def __init__(self, before: AccessModel, plain: AccessModel, desired: Addresses, log_accounts: AbstractSet[str],
                 baseline: Mapping[str, Mapping[str, Any]]) -> None:
        from accessplan.access import AccessModel

        self.before = before
        self._plain = plain
        self._log_accounts = log_accounts
        self._logged: AccessModel | None = None
        if log_accounts:
            self._logged = AccessModel(desired.subset(sorted(log_accounts)), baseline=baseline)

    def after(self, account: str) -> AccessModel:
        if self._logged is not None and account in self._log_accounts:
            return self._logged
        return self._plain


def _compare(
    pairs: list[tuple[str, str]],
    models: _Models,
    before_specs: Mapping[str, Any],
    after_specs: Mapping[str, Any],
    current: Mapping[str, Mapping[str, Any]],
    changes: list[Change],
    blocked: Mapping[str, Reason],
    lapsed: AbstractSet[str],
) -> tuple[tuple[Impact, ...], tuple[Escalation, ...]]:
    expiries = _Expiries(current, {c.address: c for c in changes if c.address.startswith("assignment/")})
    compare = _Compare()
    impacts: list[Impact] = []
    found: list[Escalation] = []
    before = models.before
    for account, user in pairs:
        had = before.access(account, user)
        now = models.after(account).access(account, user)
        if had is None and now is None:
            continue
        assignment = f"assignment/{account}/{user}"
        reason = blocked.get(account)
        raised: list[Escalation] = []
        if now is not None:
            address = assignment if assignment in after_specs else f"user/{account}/{user}"
            raised = escalations_of(
                account, user, had, now, address,
                assigned_before=assignment in before_specs,
                assigned_after=assignment in after_specs,
                lapsed=assignment in lapsed,
                reason=reason,
            )
            found.extend(raised)
        exp_before = expiries.before(assignment) if assignment in before_specs else None
        exp_after = expiries.after(assignment, after_specs.get(assignment))
        gained, lost = compare.sides(had, now, exp_before, exp_after)
        access = NEW if had is None else REMOVED if now is None else CHANGED
        if access == CHANGED and not gained and not lost:
            continue
        impacts.append(Impact(account, user, access, gained, lost, bool(raised), reason is not None))
    impacts.sort(key=Impact.sort_key)
    return tuple(impacts), tuple(sorted(found, key=sort_key))
