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
from functools import total_ordering
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from accessplan.access_logs import LogRuleHolder, evaluate_logs
from accessplan.catalog import LEVELS, level_rank, load_catalog
from accessplan.loader import no_gc

if TYPE_CHECKING:
    from accessplan.errors import Diagnostic
    from accessplan.loader import Manifest
    from accessplan.resolve import Resolved

ConflictKind = Literal["user", "group", "insufficient"]
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@total_ordering
@dataclass(frozen=True, slots=True)
class RoleSource:
    """Where a role (or, for ``kind="product"``, a full-access product) reaches a user from."""

    role: str
    group: str | None  # None: assigned directly
    kind: Literal["role", "product"] = "role"

    def sort_key(self) -> tuple[str, bool, str, str]:
        # Direct before groups; None never meets a str in a comparison.
        return (self.role, self.group is not None, self.group or "", self.kind)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, RoleSource):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    @property
    def via(self) -> str:
        return "direct" if self.group is None else f"via group {self.group}"

    def describe(self) -> str:
        if self.kind == "product":
            how = "assigned directly" if self.group is None else f"assigned via group {self.group}"
            return f"product {self.role} {how}, which gives full access whatever the role"
        if self.group is None:
            return f"role {self.role}, direct"
        return f"role {self.role} via group {self.group}"


def _level_key(item: tuple[str, RoleSource]) -> tuple[int, tuple[str, bool, str, str]]:
    return (level_rank(item[0]), item[1].sort_key())


@dataclass(frozen=True, slots=True)
class FeatureLevel:
    """A feature's effective level, the role that gives it, and the higher levels it beat."""

    product: str
    feature: str
    level: str
    source: RoleSource
    lowered_from: tuple[tuple[str, RoleSource], ...]

    def describe(self) -> str:
        text = f"{self.feature}: {self.level} — {self.source.describe()}"
        if self.lowered_from:
            beaten = ", ".join(f"{lvl} ({src.describe()})" for lvl, src in self.lowered_from)
            text += f"; lowered from {beaten} by least privilege"
        return text


@dataclass(frozen=True, slots=True)
class Conflict:
    """A privilege conflict as the platform's Conflicts tab lists it (seed)."""

    kind: ConflictKind
    account: str
    subject: str  # user email, or group name for kind "group"
    product: str
    feature: str
    levels: tuple[tuple[str, RoleSource], ...]
    result: str | None  # the level that results; None: no access
    #: insufficient: the roles that do apply to the product
    roles: tuple[RoleSource, ...] = ()
    #: insufficient: where the product comes from (None: directly)
    product_from: tuple[str | None, ...] = ()

    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.account, self.kind, self.subject, self.product, self.feature)

    def describe(self) -> str:
        if self.kind == "insufficient":
            origin = ", ".join("directly" if g is None else f"via group {g}" for g in self.product_from) or "directly"
            applying = ", ".join(src.describe() for src in self.roles)
            text = (
                f"insufficient access for {self.subject} in {self.account}: {self.product} is assigned ({origin}) "
                f"but no role gives its core feature {self.feature} at View Only or above"
            )
            text += f" (roles applying to it: {applying})" if applying else " (no role applies to it)"
            return text + ", so the product is of no use to them"
        given = " and ".join(f"at {lvl} by {src.describe()}" for lvl, src in self.levels)
        who = f"for {self.subject} in {self.account}" if self.kind == "user" else f"in group {self.subject} of {self.account}"
        return (
            f"privilege conflict {who}: {self.product} feature {self.feature} is given {given}; "
            f"least privilege makes it {self.result}"
        )

    def hint(self) -> str:
        if self.kind == "insufficient":
            admin = load_catalog().products.get(self.product)
            example = f", e.g. {_viewer_role(self.product)}" if admin is not None else ""
            return f"assign a role reaching {self.feature}, directly or through a group{example}"
        if self.kind == "group":
            return "make the group's roles agree on the feature's level"
        return "give the feature one level: change the roles assigned directly or through the user's groups"


def _viewer_role(product: str) -> str:
    """The managed role giving the product's core feature at View Only (for hints)."""
    catalog = load_catalog()
    core = catalog.products[product].core_feature
    for name, role in catalog.roles.items():
        if product in role.products and role.permissions.get(core or "") == LEVELS[0]:
            return name
    return catalog.products[product].admin_role


@dataclass(frozen=True, slots=True)
class Access:
    """One user's effective access in one account, with the source of each part."""

    account: str
    user: str
    platform_admin: bool
    products: tuple[str, ...]
    features: tuple[FeatureLevel, ...]
    roles_ignored: tuple[str, ...]
    groups: tuple[str, ...]
    logs: frozenset[str] | None
    log_reasons: Mapping[str, str]
    expiry: str | None
    conflicts: tuple[Conflict, ...]
    #: product -> where it comes from (None: directly, else a group name)
    product_sources: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)
    #: products assigned but not licensed by the account (they give nothing)
    unlicensed: tuple[str, ...] = ()
    #: role names that are neither managed nor defined in the account
    unknown_roles: tuple[str, ...] = ()
    #: every role reaching the user, whatever product it applies to
    roles: tuple[RoleSource, ...] = ()
    distribution_list: bool = False

    def level(self, product: str, feature: str) -> str | None:
        for fl in self.features:
            if fl.product == product and fl.feature == feature:
                return fl.level
        return None

    def feature(self, product: str, feature: str) -> FeatureLevel | None:
        for fl in self.features:
            if fl.product == product and fl.feature == feature:
                return fl
        return None

    def summary(self) -> dict[str, Any]:
        """The canonical, JSON-able view compared by access-impact diffs and escalations."""
        features: dict[str, dict[str, str]] = {}
        for fl in self.features:
            features.setdefault(fl.product, {})[fl.feature] = fl.level
        return {
            "expiry": self.expiry,
            "features": features,
            "logs": None if self.logs is None else sorted(self.logs),
            "platform_admin": self.platform_admin,
            "products": list(self.products),
        }


# --------------------------------------------------------------------------- roles


@dataclass(frozen=True, slots=True)
class _RoleDef:
    products: frozenset[str]
    permissions: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Privileges:
    """What a combination of products and roles gives, shared by every user holding it."""

    products: tuple[str, ...]
    product_sources: Mapping[str, tuple[str | None, ...]]
    unlicensed: tuple[str, ...]
    features: tuple[FeatureLevel, ...]
    roles_ignored: tuple[str, ...]
    unknown_roles: tuple[str, ...]
    roles: tuple[RoleSource, ...]
    has_logs: bool
    #: (kind, product, feature, levels, result, roles, product_from) without account/subject
    conflicts: tuple[tuple[Any, ...], ...]


RoleRef = tuple[str, "_RoleDef | None"]
GroupSig = tuple[str, tuple[str, ...], tuple[RoleRef, ...]]


def _feature_levels(
    product: str, entries: list[tuple[RoleSource, _RoleDef]]
) -> dict[str, list[tuple[str, RoleSource]]]:
    """Feature -> every (level, source) the applying roles give it in ``product``."""
    features = load_catalog().products[product].features
    out: dict[str, list[tuple[str, RoleSource]]] = {}
    for source, role in entries:
        if product not in role.products:
            continue
        for feature, level in role.permissions:
            if feature in features:
                out.setdefault(feature, []).append((level, source))
    return out


def _differs(items: list[tuple[str, RoleSource]], same_group_ok: bool) -> bool:
    """Two entries with different levels (not both inside one group, for user conflicts)."""
    for i, (la, sa) in enumerate(items):
        for lb, sb in items[i + 1 :]:
            if la != lb and not (same_group_ok and sa.group is not None and sa.group == sb.group):
                return True
    return False


def _privileges(licensed: frozenset[str], direct_products: tuple[str, ...], direct_roles: tuple[RoleRef, ...],
                groups: tuple[GroupSig, ...]) -> _Privileges:
    catalog = load_catalog()
    sources: dict[str, list[str | None]] = {}
    for p in direct_products:
        sources.setdefault(p, []).append(None)
    entries: list[tuple[RoleSource, _RoleDef]] = []
    unknown: set[str] = set()
    all_roles: list[RoleSource] = []
    for name, role in direct_roles:
        all_roles.append(RoleSource(name, None))
        if role is None:
            unknown.add(name)
        else:
            entries.append((RoleSource(name, None), role))
    for gname, gproducts, groles in groups:
        for p in gproducts:
            sources.setdefault(p, []).append(gname)
        for name, role in groles:
            all_roles.append(RoleSource(name, gname))
            if role is None:
                unknown.add(name)
            else:
                entries.append((RoleSource(name, gname), role))
    products = tuple(sorted(p for p in sources if p in licensed and p in catalog.products))
    features: list[FeatureLevel] = []
    ignored: list[str] = []
    conflicts: list[tuple[Any, ...]] = []
    for p in products:
        product = catalog.products[p]
        if product.full_access:
            origin = sorted(sources[p], key=lambda g: (g is not None, g or ""))[0]
            features.append(FeatureLevel(p, "Product", LEVELS[-1], RoleSource(p, origin, "product"), ()))
            continue
        if product.roles_ignored:
            ignored.append(p)
            continue
        levels = _feature_levels(p, entries)
        for feature in sorted(levels):
            items = sorted(levels[feature], key=_level_key)
            low = items[0][0]
            lowered = tuple(it for it in items if it[0] != low)
            features.append(FeatureLevel(p, feature, low, items[0][1], lowered))
            if lowered and _differs(items, same_group_ok=True):
                conflicts.append(("user", p, feature, tuple(items), low, (), ()))
        core = product.core_feature
        if core is not None and core not in levels:
            applying = tuple(sorted({src for src, role in entries if p in role.products}))
            origin_groups = tuple(sorted(set(sources[p]), key=lambda g: (g is not None, g or "")))
            conflicts.append(("insufficient", p, core, (), None, applying, origin_groups))
    return _Privileges(
        products=products,
        product_sources=MappingProxyType({p: tuple(sorted(set(s), key=lambda g: (g is not None, g or ""))) for p, s in sorted(sources.items())}),
        unlicensed=tuple(sorted(p for p in sources if p not in products)),
        features=tuple(features),
        roles_ignored=tuple(ignored),
        unknown_roles=tuple(sorted(unknown)),
        roles=tuple(sorted(set(all_roles))),
        has_logs=any(catalog.products[p].has_logs for p in products),
        conflicts=tuple(conflicts),
    )


def _group_conflicts(account: str, group: str, products: set[str], roles: tuple[RoleRef, ...]) -> list[Conflict]:
    """Two roles inside one group giving one feature different levels (a ``group`` conflict)."""
    catalog = load_catalog()
    entries = [(RoleSource(name, group), role) for name, role in roles if role is not None]
    out: list[Conflict] = []
    for p in sorted(products):
        product = catalog.products.get(p)
        if product is None or product.full_access or product.roles_ignored:
            continue
        for feature, items in sorted(_feature_levels(p, entries).items()):
            items.sort(key=_level_key)
            if len({lvl for lvl, _ in items}) > 1:
                out.append(Conflict("group", account, group, p, feature, tuple(items), items[0][0]))
    return out


# --------------------------------------------------------------------------- the model


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
    privileges: dict[Any, _Privileges] = field(default_factory=dict)
    group_sigs: dict[str, GroupSig] = field(default_factory=dict)
    group_ids: dict[str, int] = field(default_factory=dict)
    role_ids: dict[str, int] = field(default_factory=dict)
    licensed_id: int = 0
    log_cache: dict[Any, tuple[frozenset[str], Mapping[str, str]]] = field(default_factory=dict)


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
        self._privileges: dict[Any, _Privileges] = {}
        self._role_defs: dict[Any, _RoleDef] = {}
        self._cache: dict[tuple[str, str], Access | None] = {}
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
            kind, _, tail = addr.partition("/")
            if kind == "partner" or kind == "customer":
                acct = accounts.get(tail)
                if acct is None:
                    acct = accounts[tail] = _Account(tail, kind, spec)
                licensed = spec.get("products") if kind == "partner" else spec.get("licensed", spec.get("products"))
                acct.kind, acct.spec, acct.licensed = kind, spec, frozenset(licensed or ())
                acct.default_all_logs = bool(spec.get("default_all_logs", True))
                continue
            account, _, name = tail.partition("/")
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

    def _role_def(self, acct: _Account, name: str) -> _RoleDef | None:
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
            role = self._role_defs[key] = _RoleDef(frozenset(p for p in key[0] if p), key[1])
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
        """Every conflict: users' (user, insufficient) and groups', sorted."""
        found: list[Conflict] = []
        with no_gc():
            for acc in self.all_access():
                found.extend(acc.conflicts)
            for account in self.accounts():
                found.extend(self.group_conflicts(account))
        return sorted(found, key=Conflict.sort_key)

    def all_access(self) -> list[Access]:
        """Access of every (account, user) with presence, in (account, user) order."""
        out: list[Access] = []
        cache = self._cache
        with no_gc():
            for account, user in self.pairs():
                acc = cache[(account, user)] if (account, user) in cache else self.access(account, user)
                if acc is not None:
                    out.append(acc)
        return out

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
                acc = self.access(account, member)
                if acc is not None:
                    products.update(acc.products)
            out.extend(_group_conflicts(account, gname, products & acct.licensed, sig[2]))
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
        # The hot path of a 100k-pair evaluation: plain lookups, interned keys.
        if own is None or assignment is None:
            spec = own if assignment is None else assignment
            assert spec is not None
            direct_products = tuple(spec.get("products") or ())
            direct_roles = tuple(spec.get("roles") or ())
            logs = spec.get("logs") or _EMPTY
            select = tuple(logs.get("select") or ())
            restrict = tuple(logs.get("restrict") or ())
            admin = bool(spec.get("platform_admin"))
        else:
            direct_products, direct_roles, select, restrict, admin = (), (), (), (), False
            for spec in (own, assignment):
                direct_products += tuple(spec.get("products") or ())
                direct_roles += tuple(spec.get("roles") or ())
                s, r = _rules(spec)
                select += s
                restrict += r
                admin = admin or bool(spec.get("platform_admin"))
        groups = acct.member_of.get(user, ())
        local = (direct_products, direct_roles, groups)
        priv = acct.privileges.get(local)
        if priv is None:
            priv = acct.privileges[local] = self._shared_privileges(acct, direct_products, direct_roles, groups)
        if priv.has_logs:
            log_access, reasons = self._logs(acct, user, own, assignment, select, restrict, groups)
        else:
            log_access, reasons = None, _EMPTY
        conflicts = tuple(Conflict(c[0], account, user, *c[1:]) for c in priv.conflicts) if priv.conflicts else ()
        dl = (own is not None and bool(own.get("distribution_list"))) or user in self._dl_partner_users
        return Access(
            account, user, admin, priv.products, priv.features, priv.roles_ignored, groups, log_access, reasons,
            assignment.get("expiry") if assignment is not None else None, conflicts, priv.product_sources,
            priv.unlicensed, priv.unknown_roles, priv.roles, dl,
        )

    def _shared_privileges(self, acct: _Account, products: tuple[str, ...], roles: tuple[str, ...], groups: tuple[str, ...]) -> _Privileges:
        """Privileges by content (licence, products, role definitions, groups), shared across accounts."""
        refs = tuple(acct.role_ids[r] if r in acct.role_ids else self._role_id(acct, r) for r in roles)
        key = (acct.licensed_id, products, refs, tuple(acct.group_ids[g] for g in groups))
        priv = self._privileges.get(key)
        if priv is None:
            priv = self._privileges[key] = _privileges(
                acct.licensed,
                tuple(sorted(set(products))),
                tuple(self._refs[i] for i in refs),
                tuple(acct.group_sigs[g] for g in groups),
            )
        return priv

    def _logs(self, acct: _Account, user: str, own: Mapping[str, Any] | None,
              assignment: Mapping[str, Any] | None, select: tuple[str, ...], restrict: tuple[str, ...],
              groups: tuple[str, ...]) -> tuple[frozenset[str] | None, Mapping[str, str]]:
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


def access_diagnostics(manifest: Manifest, resolved: Resolved) -> list[Diagnostic]:
    """Privilege conflicts as warnings and the distribution-list rule as errors (for ``validate``)."""
    from accessplan.access_diag import access_diagnostics as run

    return run(manifest, resolved)
