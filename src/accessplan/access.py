"""Effective access: who can do what, where, and why (SPEC section 5).

The engine reads *resources* (``{address: spec}``, as :mod:`accessplan.desired`
builds them from a manifest, or as state keeps them), never manifest models, so
that one engine judges both desired and current access: a plan's access impact
and its escalations are then a comparison of two :class:`Access` records.

For one user in one account it combines what the user holds directly (an
``assignment`` for a partner user in a customer, the ``user`` entry for the
account's own people) with what the user's groups give:

* products: direct and group products, kept only where the account licenses them;
* features: every applying role (a role applies to each effective product it is
  suitable for) gives levels; the *lowest* one wins (least privilege), and
  differing levels are conflicts; InsightConnect is full access whatever the
  role, InsightVM ignores platform roles;
* logs: see :mod:`accessplan.access_logs`.

Large MSSPs have ~100,000 assignments, but few distinct combinations of
licensed products, roles and groups: the role arithmetic is computed once per
combination and shared.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from accessplan.access_logs import LogRuleHolder, evaluate_logs
from accessplan.access_roles import GroupSig, Privileges, RoleDef, RoleRef, group_conflicts, privileges
from accessplan.access_types import Access, Conflict, ConflictKind, FeatureLevel, RoleSource
from accessplan.catalog import load_catalog
from accessplan.loader import no_gc

if TYPE_CHECKING:
    from accessplan.errors import Diagnostic
    from accessplan.loader import Manifest
    from accessplan.resolve import Resolved

__all__ = ["Access", "AccessModel", "Conflict", "ConflictKind", "FeatureLevel", "RoleSource", "access_diagnostics"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(slots=True)
class _Account:
    id: str
    kind: str
    spec: Mapping[str, Any]
    licensed: frozenset[str] = frozenset()
    default_all_logs: bool = True
    users: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    assignments: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    groups: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    roles: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    log_sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    logs: dict[str, str | None] = field(default_factory=dict)
    member_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    privileges: dict[Any, Privileges] = field(default_factory=dict)
    group_sigs: dict[str, GroupSig] = field(default_factory=dict)
    group_ids: dict[str, int] = field(default_factory=dict)
    role_ids: dict[str, int] = field(default_factory=dict)
    licensed_id: int = 0
    log_cache: dict[Any, tuple[frozenset[str], Mapping[str, str]]] = field(default_factory=dict)
    all_logs: tuple[frozenset[str], Mapping[str, str]] | None = None


def _rules(spec: Mapping[str, Any] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    logs = (spec or {}).get("logs") or {}
    return tuple(logs.get("select") or ()), tuple(logs.get("restrict") or ())


class AccessModel:
    """Effective access for every (account, user) of one set of resources.

    ``baseline`` (optional) is an earlier set of resources — the state a plan
    starts from: a log rule that is unchanged since then keeps the log-set
    membership of that time, so that a set selected with one of its logs
    restricted does not silently cover a log added to the set later (seed).
    """

    def __init__(self, resources: Mapping[str, Mapping[str, Any]], *, baseline: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._accounts: dict[str, _Account] = {}
        self._privileges: dict[Any, Privileges] = {}
        self._role_defs: dict[Any, RoleDef] = {}
        self._cache: dict[tuple[str, str], Access | None] = {}
        self._all: list[Access] | None = None
        self._refs: list[RoleRef] = []
        self._ref_ids: dict[RoleRef, int] = {}
        self._dl_partner_users: frozenset[str] = frozenset()
        self._baseline = baseline
        with no_gc():
            self._index(resources)

    # -- indexing -------------------------------------------------------------

    def _index(self, resources: Mapping[str, Mapping[str, Any]]) -> None:
        accounts = self._accounts
        for addr, spec in resources.items():
            parts = addr.split("/", 2)
            kind = parts[0]
            if len(parts) == 2:
                if kind != "partner" and kind != "customer":
                    continue
                tail = parts[1]
                acct = accounts.get(tail)
                if acct is None:
                    acct = accounts[tail] = _Account(tail, kind, spec)
                licensed = spec.get("products") if kind == "partner" else spec.get("licensed", spec.get("products"))
                acct.kind, acct.spec, acct.licensed = kind, spec, frozenset(licensed or ())
                acct.default_all_logs = bool(spec.get("default_all_logs", True))
                continue
            if len(parts) != 3:
                continue
            account, name = parts[1], parts[2]
            acct = accounts.get(account)
            if acct is None:
                acct = accounts[account] = _Account(account, "", _EMPTY)
            if kind == "assignment":
                acct.assignments[name] = spec
            elif kind == "user":
                acct.users[name] = spec
            elif kind == "group":
                acct.groups[name] = spec
            elif kind == "role":
                acct.roles[name] = spec
            elif kind == "logset":
                acct.log_sets[name] = tuple(spec.get("logs") or ())
            elif kind == "log":
                acct.logs[name] = spec.get("log_set")
        for orphan in [a for a, acct in accounts.items() if not acct.kind]:
            del accounts[orphan]  # resources of an account that is not there (e.g. in a damaged state)
        licensed_ids: dict[frozenset[str], int] = {}
        group_ids: dict[GroupSig, int] = {}
        for acct in self._accounts.values():
            acct.licensed_id = licensed_ids.setdefault(acct.licensed, len(licensed_ids))
            for gname in sorted(acct.groups):
                for member in acct.groups[gname].get("members") or ():
                    acct.member_of[member] = acct.member_of.get(member, ()) + (gname,)
            for gname, gspec in acct.groups.items():
                sig = (gname, tuple(sorted(set(gspec.get("products") or ()))), self._role_refs(acct, gspec.get("roles") or ()))
                acct.group_sigs[gname] = sig
                acct.group_ids[gname] = group_ids.setdefault(sig, len(group_ids))
        partner = next((a for a in self._accounts.values() if a.kind == "partner"), None)
        self._dl_partner_users = frozenset(
            email for email, spec in (partner.users.items() if partner else ()) if spec.get("distribution_list")
        )

    def _role_id(self, acct: _Account, name: str) -> int:
        """An int standing for (role name, its definition in this account), for cheap cache keys."""
        ref: RoleRef = (name, self._role_def(acct, name))
        rid = self._ref_ids.get(ref)
        if rid is None:
            rid = self._ref_ids[ref] = len(self._refs)
            self._refs.append(ref)
        acct.role_ids[name] = rid
        return rid

    def _role_refs(self, acct: _Account, names: Any) -> tuple[RoleRef, ...]:
        return tuple(self._refs[acct.role_ids[n] if n in acct.role_ids else self._role_id(acct, n)] for n in names)

    def _role_def(self, acct: _Account, name: str) -> RoleDef | None:
        """A custom role of the account, else a managed role; interned so equal roles share a cache."""
        custom = acct.roles.get(name)
        if custom is not None:
            key: Any = ((custom.get("product"),), tuple(sorted((custom.get("permissions") or {}).items())))
        else:
            managed = load_catalog().roles.get(name)
            if managed is None:
                return None
            key = (managed.products, tuple(managed.permissions.items()))
        role = self._role_defs.get(key)
        if role is None:
            role = self._role_defs[key] = RoleDef(frozenset(p for p in key[0] if p), key[1])
        return role

    # -- queries --------------------------------------------------------------

    def accounts(self) -> list[str]:
        return sorted(self._accounts)

    def account_kind(self, account: str) -> str | None:
        acct = self._accounts.get(account)
        return None if acct is None else acct.kind

    def account_spec(self, account: str) -> Mapping[str, Any]:
        return self._accounts[account].spec

    def log_names(self, account: str) -> dict[str, str | None]:
        """Every log of the account -> its log set (None outside any set)."""
        acct = self._accounts.get(account)
        return {} if acct is None else dict(sorted(acct.logs.items()))

    def log_set_names(self, account: str) -> list[str]:
        acct = self._accounts.get(account)
        return [] if acct is None else sorted(acct.log_sets)

    def groups(self, account: str) -> list[str]:
        acct = self._accounts.get(account)
        return [] if acct is None else sorted(acct.groups)

    def users(self, account: str) -> list[str]:
        acct = self._accounts.get(account)
        if acct is None:
            return []
        return sorted(acct.users.keys() | acct.assignments.keys())

    def pairs(self) -> Iterator[tuple[str, str]]:
        for account in self.accounts():
            for user in self.users(account):
                yield account, user

    def access(self, account: str, user: str) -> Access | None:
        key = (account, user)
        if key not in self._cache:
            self._cache[key] = self._compute(account, user)
        return self._cache[key]

    def conflicts(self) -> list[Conflict]:
        """Every conflict: users' (user, insufficient) and groups', sorted.

        Judged from the shared privileges alone, without building each pair's
        :class:`Access` (logs included): ``validate`` asks this of 100,000 pairs.
        """
        found: list[Conflict] = []
        with no_gc():
            for account, acct in self._accounts.items():
                own_users, assignments, member_of = acct.users, acct.assignments, acct.member_of
                # Users holding the same specs (equal specs are one object) and the
                # same groups share their privileges: look each combination up once.
                seen: dict[tuple[int, int, tuple[str, ...]], Privileges] = {}
                for user in own_users.keys() | assignments.keys():
                    own, assignment = own_users.get(user), assignments.get(user)
                    key = (id(own), id(assignment), member_of.get(user, ()))
                    priv = seen.get(key)
                    if priv is None:
                        priv = seen[key] = self._direct(acct, user, own, assignment)[1]
                    if priv.conflicts:
                        found.extend(Conflict(c[0], account, user, *c[1:]) for c in priv.conflicts)
                found.extend(self.group_conflicts(account))
        return sorted(found, key=Conflict.sort_key)

    def distribution_lists(self) -> list[Access]:
        """Access of every distribution-list user, wherever they have some."""
        out: list[Access] = []
        for account in self.accounts():
            acct = self._accounts[account]
            for user in sorted(acct.users.keys() | acct.assignments.keys()):
                own = acct.users.get(user)
                if user in self._dl_partner_users or (own is not None and own.get("distribution_list")):
                    acc = self.access(account, user)
                    if acc is not None:
                        out.append(acc)
        return out

    def all_access(self) -> list[Access]:
        """Access of every (account, user) with presence, in (account, user) order."""
        if self._all is None:
            out: list[Access] = []
            cache = self._cache
            with no_gc():
                for account in self.accounts():
                    acct = self._accounts[account]
                    own_users, assignments = acct.users, acct.assignments
                    for user in sorted(own_users.keys() | assignments.keys()):
                        acc = cache.get((account, user))
                        if acc is None:
                            acc = cache[(account, user)] = self._evaluate(acct, user, own_users.get(user), assignments.get(user))
                        out.append(acc)
            self._all = out
        return list(self._all)

    def group_conflicts(self, account: str, group: str | None = None) -> list[Conflict]:
        """Conflicts between roles inside one group, on the products the group or its members hold."""
        acct = self._accounts.get(account)
        if acct is None:
            return []
        out: list[Conflict] = []
        for gname in sorted(acct.groups) if group is None else [group]:
            sig = acct.group_sigs.get(gname)
            if sig is None or len(sig[2]) < 2:
                continue
            products = set(sig[1])
            for member in acct.groups[gname].get("members") or ():
                own, assignment = acct.users.get(member), acct.assignments.get(member)
                if own is not None or assignment is not None:  # products need no logs: privileges alone
                    products.update(self._direct(acct, member, own, assignment)[1].products)
            out.extend(group_conflicts(account, gname, products & acct.licensed, sig[2]))
        return out

    # -- computing ------------------------------------------------------------

    def _compute(self, account: str, user: str) -> Access | None:
        acct = self._accounts.get(account)
        if acct is None:
            return None
        own = acct.users.get(user)
        assignment = acct.assignments.get(user)
        if own is None and assignment is None:
            return None
        return self._evaluate(acct, user, own, assignment)

    def _evaluate(self, acct: _Account, user: str, own: Mapping[str, Any] | None, assignment: Mapping[str, Any] | None) -> Access:
        account = acct.id
        admin, priv = self._direct(acct, user, own, assignment)
        groups = acct.member_of.get(user, ())
        if not priv.has_logs:
            log_access, reasons = None, _EMPTY
        elif acct.default_all_logs:
            if acct.all_logs is None:
                acct.all_logs = self._logs(acct, user, own, assignment, groups)
            log_access, reasons = acct.all_logs
        else:
            log_access, reasons = self._logs(acct, user, own, assignment, groups)
        conflicts = tuple(Conflict(c[0], account, user, *c[1:]) for c in priv.conflicts) if priv.conflicts else ()
        dl = (own is not None and bool(own.get("distribution_list"))) or user in self._dl_partner_users
        return Access(
            account, user, admin, priv.products, priv.features, priv.roles_ignored, groups, log_access, reasons,
            assignment.get("expiry") if assignment is not None else None, conflicts, priv.product_sources,
            priv.unlicensed, priv.unknown_roles, priv.roles, dl,
        )

    def _direct(self, acct: _Account, user: str, own: Mapping[str, Any] | None,
                assignment: Mapping[str, Any] | None) -> tuple[bool, Privileges]:
        """The admin flag and the (shared) privileges of one user in one account."""
        # The hot path of a 100k-pair evaluation: plain lookups, interned keys.
        if own is None or assignment is None:
            spec = own if assignment is None else assignment
            assert spec is not None
            direct_products = tuple(spec.get("products") or ())
            direct_roles = tuple(spec.get("roles") or ())
            admin = bool(spec.get("platform_admin"))
        else:
            direct_products = tuple(own.get("products") or ()) + tuple(assignment.get("products") or ())
            direct_roles = tuple(own.get("roles") or ()) + tuple(assignment.get("roles") or ())
            admin = bool(own.get("platform_admin")) or bool(assignment.get("platform_admin"))
        groups = acct.member_of.get(user, ())
        local = (direct_products, direct_roles, groups)
        priv = acct.privileges.get(local)
        if priv is None:
            priv = acct.privileges[local] = self._sharedprivileges(acct, direct_products, direct_roles, groups)
        return admin, priv

    def _sharedprivileges(self, acct: _Account, products: tuple[str, ...], roles: tuple[str, ...], groups: tuple[str, ...]) -> Privileges:
        """Privileges by content (licence, products, role definitions, groups), shared across accounts."""
        refs = tuple(acct.role_ids[r] if r in acct.role_ids else self._role_id(acct, r) for r in roles)
        key = (acct.licensed_id, products, refs, tuple(acct.group_ids[g] for g in groups))
        priv = self._privileges.get(key)
        if priv is None:
            priv = self._privileges[key] = privileges(
                acct.licensed,
                tuple(sorted(set(products))),
                tuple(self._refs[i] for i in refs),
                tuple(acct.group_sigs[g] for g in groups),
            )
        return priv

    def _logs(self, acct: _Account, user: str, own: Mapping[str, Any] | None,
              assignment: Mapping[str, Any] | None, groups: tuple[str, ...]) -> tuple[frozenset[str], Mapping[str, str]]:
        select: tuple[str, ...] = ()
        restrict: tuple[str, ...] = ()
        for spec in (own, assignment):
            if spec is not None:
                s, r = _rules(spec)
                select, restrict = select + s, restrict + r
        if acct.default_all_logs:
            key: Any = "*"
        else:
            key = (select, restrict, groups)  # a group's rules are fixed within the account
            if self._baseline is not None:
                key = (key, user)  # rule times differ per holder
        hit = acct.log_cache.get(key)
        if hit is None:
            if key == "*":
                reason = "visible — the account gives every InsightIDR/InsightOps user every log, now and later (default log access)"
                hit = (frozenset(acct.logs), MappingProxyType({name: reason for name in sorted(acct.logs)}))
            else:
                holders = [LogRuleHolder(None, select, restrict, self._rule_time(acct, user, own, assignment))]
                for g in groups:
                    s, r = _rules(acct.groups[g])
                    holders.append(LogRuleHolder(g, s, r, self._rule_time(acct, None, acct.groups[g], None, group=g)))
                visible, reasons = evaluate_logs(holders, acct.log_sets, acct.logs)
                hit = (visible, MappingProxyType(reasons))
            acct.log_cache[key] = hit
        return hit

    def _rule_time(self, acct: _Account, user: str | None, own: Mapping[str, Any] | None,
                   assignment: Mapping[str, Any] | None, group: str | None = None) -> Mapping[str, tuple[str, ...]]:
        """Log-set membership when the holder's rules were made: the baseline's, if unchanged since."""
        base = self._baseline
        if base is None:
            return _EMPTY
        if group is not None:
            addrs = [(f"group/{acct.id}/{group}", own)]
        else:
            addrs = [(f"user/{acct.id}/{user}", own), (f"assignment/{acct.id}/{user}", assignment)]
        for addr, spec in addrs:
            if spec is None:
                continue
            before = base.get(addr)
            if before is None or _rules(before) != _rules(spec):
                return _EMPTY
        prefix = f"logset/{acct.id}/"
        return {name: tuple((base.get(prefix + name) or {}).get("logs") or ()) for name in acct.log_sets if prefix + name in base}


def access_diagnostics(
    manifest: Manifest, resolved: Resolved, resources: Mapping[str, Mapping[str, Any]] | None = None, *, model: AccessModel | None = None
) -> list[Diagnostic]:
    """Privilege conflicts as warnings and the distribution-list rule as errors (for ``validate``).

    ``resources``: the manifest's desired resources, if the caller already built
    them (they cost seconds for a large MSSP); built here otherwise. ``model``:
    the engine over them, if the caller built it already.
    """
    from accessplan.access_diag import access_diagnostics as run

    return run(manifest, resolved, resources, model=model)
