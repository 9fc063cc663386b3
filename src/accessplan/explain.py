"""Effective access in words, for ``explain`` and ``who-can``.

The reader is someone reviewing access, not someone who knows the code: every
level is followed by the role that gives it and where that role comes from,
and every log by why it is or is not visible. User-supplied strings pass
through :func:`~accessplan.errors.sanitize` before they reach a terminal.
JSON views carry ``format_version`` and the same facts, structured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accessplan.access import Access, AccessModel, Conflict, FeatureLevel, RoleSource
from accessplan.catalog import LEVELS, level_rank, load_catalog
from accessplan.errors import AccessplanError, sanitize
from accessplan.model import did_you_mean

FORMAT_VERSION = 1


def describe_expiry(expiry: str | None) -> str:
    """An assignment's spec expiry, in words."""
    if expiry is None or expiry == "permanent":
        return "permanent"
    if expiry.endswith("h") and expiry[:-1].isdigit():
        return f"lasts {expiry} from the apply that creates it"
    return f"until {expiry}"


def _from(groups: Sequence[str | None]) -> str:
    return ", ".join("directly" if g is None else f"via group {g}" for g in groups)


# --------------------------------------------------------------------------- explain


@dataclass(frozen=True, slots=True)
class Subject:
    """One account of the explained user, with what the manifest says about the assignment."""

    account: str
    name: str
    kind: str  # "partner" or "customer"
    origin: str | None  # e.g. "grant at grants.yaml:12" (partner users in customers)


def explain_text(access: Access, subject: Subject, group_conflicts: Sequence[Conflict] = ()) -> str:
    s = sanitize
    lines = [f"{s(access.user)} in {s(subject.account)} ({s(subject.name)}{', the partner account' if subject.kind == 'partner' else ''})"]
    admin = "platform administrator" if access.platform_admin else "not a platform administrator"
    if access.distribution_list:
        admin += ", distribution list (View Only at most)"
    if access.expiry is not None:
        origin = f" ({s(subject.origin)})" if subject.origin else ""
        lines.append(f"  assignment: {describe_expiry(access.expiry)}, {admin}{origin}")
    else:
        lines.append(f"  user of the account: {admin}")
    lines.append(f"  groups: {', '.join(s(g) for g in access.groups) if access.groups else 'none'}")
    if not access.products:
        why = " (platform administration gives no product access by itself)" if access.platform_admin else ""
        lines.append(f"  products: none{why}")
    catalog = load_catalog()
    for product in access.products:
        info = catalog.products[product]
        head = f"  {product} ({s(_from(access.product_sources.get(product, ())))})"
        if info.roles_ignored:
            lines.append(f"{head}: platform roles are ignored; {product} applies its own roles")
            continue
        lines.append(head)
        shown = [fl for fl in access.features if fl.product == product]
        for fl in shown:
            lines.append(f"    {s(fl.describe())}")
        if not shown:
            lines.append("    no feature: no applying role names one")
    for product in access.unlicensed:
        lines.append(f"  {product}: assigned ({s(_from(access.product_sources.get(product, ())))}) but not licensed here, so it gives nothing")
    if access.unknown_roles:
        lines.append(f"  roles not found in the catalog or the account: {', '.join(s(r) for r in access.unknown_roles)}")
    lines.extend(_log_lines(access))
    conflicts = [*access.conflicts, *group_conflicts]
    if conflicts:
        lines.append(f"  conflicts: {len(conflicts)}")
        lines.extend(f"    {s(c.describe())}" for c in conflicts)
    else:
        lines.append("  conflicts: none")
    return "\n".join(lines)


def _log_lines(access: Access) -> list[str]:
    if access.logs is None:
        return ["  logs: none (no InsightIDR or InsightOps product)"]
    total = len(access.log_reasons)
    if total == 0:
        return ["  logs: the account has none"]
    reasons = set(access.log_reasons.values())
    if total and len(reasons) == 1 and "default log access" in next(iter(reasons)):
        return [f"  logs: all {total} visible — the account gives every log to every InsightIDR/InsightOps user (default log access)"]
    lines = [f"  logs: {len(access.logs)} of {total} visible"]
    lines.extend(f"    {sanitize(name)}: {sanitize(reason)}" for name, reason in sorted(access.log_reasons.items()))
    return lines


def _source_json(src: RoleSource) -> dict[str, Any]:
    return {"group": src.group, "kind": src.kind, "role": src.role}


def _feature_json(fl: FeatureLevel) -> dict[str, Any]:
    return {
        "feature": fl.feature,
        "level": fl.level,
        "lowered_from": [{"level": lvl, "source": _source_json(src)} for lvl, src in fl.lowered_from],
        "product": fl.product,
        "source": _source_json(fl.source),
    }


def conflict_json(c: Conflict) -> dict[str, Any]:
    return {
        "account": c.account,
        "feature": c.feature,
        "kind": c.kind,
        "levels": [{"level": lvl, "source": _source_json(src)} for lvl, src in c.levels],
        "message": c.describe(),
        "product": c.product,
        "result": c.result,
        "subject": c.subject,
    }


def explain_json(access: Access, subject: Subject, group_conflicts: Sequence[Conflict] = ()) -> dict[str, Any]:
    catalog = load_catalog()
    return {
        "account": subject.account,
        "assignment": None if access.expiry is None else {"expiry": access.expiry, "origin": subject.origin},
        "conflicts": [conflict_json(c) for c in (*access.conflicts, *group_conflicts)],
        "distribution_list": access.distribution_list,
        "features": [_feature_json(fl) for fl in access.features],
        "groups": list(access.groups),
        "kind": subject.kind,
        "logs": None if access.logs is None else {"reasons": dict(sorted(access.log_reasons.items())), "visible": sorted(access.logs)},
        "name": subject.name,
        "platform_admin": access.platform_admin,
        "products": [
            {
                "from": list(access.product_sources.get(p, ())),
                "full_access": catalog.products[p].full_access,
                "product": p,
                "roles_ignored": p in access.roles_ignored,
            }
            for p in access.products
        ],
        "unknown_roles": list(access.unknown_roles),
        "unlicensed": list(access.unlicensed),
    }


# --------------------------------------------------------------------------- who-can


@dataclass(frozen=True, slots=True)
class WhoCanQuery:
    customer: str
    product: str | None = None
    feature: str | None = None
    level: str | None = None
    log: str | None = None

    def describe(self) -> str:
        parts = []
        if self.product:
            parts.append(f"product {self.product}")
        if self.feature:
            parts.append(f"feature {self.feature}")
        if self.level:
            parts.append(f"at {self.level} or above")
        if self.log:
            parts.append(f"log {self.log}")
        return ", ".join(parts) if parts else "any access"


@dataclass(frozen=True, slots=True)
class WhoCanRow:
    user: str
    platform_admin: bool
    products: tuple[str, ...]
    matches: tuple[FeatureLevel, ...]  # features matching the query (empty without --feature/--level)
    log_reason: str | None


def check_query(model: AccessModel, query: WhoCanQuery) -> WhoCanQuery:
    """Refuse unknown names (with a suggestion) and canonicalise product short codes."""
    catalog = load_catalog()
    if model.account_kind(query.customer) is None:
        raise AccessplanError(f"unknown customer '{query.customer}'", did_you_mean(query.customer, model.accounts(), "list customers with 'accessplan validate'"))
    product = query.product
    if product is not None:
        found = catalog.product(product)
        if found is None:
            raise AccessplanError(f"unknown product '{product}'", did_you_mean(product, catalog.product_names()))
        product = found.name
    if query.feature is not None:
        features = catalog.products[product].features if product else {f: () for p in catalog.products.values() for f in p.features}
        if query.feature not in features:
            where = f" of {product}" if product else ""
            raise AccessplanError(f"unknown feature '{query.feature}'{where}", did_you_mean(query.feature, sorted(features), f"features are {', '.join(sorted(features))}"))
    if query.level is not None and query.level not in LEVELS:
        raise AccessplanError(f"unknown access level '{query.level}'", did_you_mean(query.level, LEVELS, f"levels are {', '.join(LEVELS)}"))
    if query.log is not None:
        logs = model.log_names(query.customer)
        if query.log not in logs:
            if query.log in model.log_set_names(query.customer):
                raise AccessplanError(f"'{query.log}' is a log set, not a log", "ask about one of its logs")
            raise AccessplanError(f"unknown log '{query.log}' in {query.customer}", did_you_mean(query.log, logs, "the account has no such log"))
    return WhoCanQuery(query.customer, product, query.feature, query.level, query.log)


def who_can(model: AccessModel, query: WhoCanQuery) -> list[WhoCanRow]:
    """Everyone in the account matching every filter given, sorted by email."""
    rows: list[WhoCanRow] = []
    floor = level_rank(query.level) if query.level else 0
    for user in model.users(query.customer):
        acc = model.access(query.customer, user)
        if acc is None:
            continue
        if query.product and query.product not in acc.products:
            continue
        matches: tuple[FeatureLevel, ...] = ()
        if query.feature or query.level:
            matches = tuple(
                fl for fl in acc.features
                if (query.product is None or fl.product == query.product)
                and (query.feature is None or fl.feature == query.feature)
                and level_rank(fl.level) >= floor
            )
            if not matches:
                continue
        reason = None
        if query.log:
            if acc.logs is None or query.log not in acc.logs:
                continue
            reason = acc.log_reasons.get(query.log)
        rows.append(WhoCanRow(user, acc.platform_admin, acc.products, matches, reason))
    return rows


def who_can_text(query: WhoCanQuery, name: str, rows: Sequence[WhoCanRow]) -> str:
    s = sanitize
    lines = [f"Who can reach {s(query.customer)} ({s(name)}) with {s(query.describe())}:"]
    for row in rows:
        admin = ", platform administrator" if row.platform_admin else ""
        products = ", ".join(row.products) if row.products else "no products"
        lines.append(f"  {s(row.user)} ({products}{admin})")
        lines.extend(f"    [{fl.product}] {s(fl.describe())}" for fl in row.matches)
        if row.log_reason:
            lines.append(f"    {s(query.log or '')}: {s(row.log_reason)}")
    lines.append(f"{len(rows)} user{'s' if len(rows) != 1 else ''}")
    return "\n".join(lines)


def who_can_json(query: WhoCanQuery, rows: Sequence[WhoCanRow]) -> dict[str, Any]:
    return {
        "customer": query.customer,
        "filters": {"feature": query.feature, "level": query.level, "log": query.log, "product": query.product},
        "format_version": FORMAT_VERSION,
        "users": [
            {
                "features": [_feature_json(fl) for fl in row.matches],
                "log_reason": row.log_reason,
                "platform_admin": row.platform_admin,
                "products": list(row.products),
                "user": row.user,
            }
            for row in rows
        ],
    }


def known_users(model: AccessModel) -> list[str]:
    """Every user with presence in any account (for 'unknown user' suggestions)."""
    return sorted({u for account in model.accounts() for u in model.users(account)})


def user_accounts(model: AccessModel, user: str) -> list[str]:
    """Accounts where ``user`` has presence: the partner account first, then customers."""
    found = [a for a in model.accounts() if model.access(a, user) is not None]
    return sorted(found, key=lambda a: (model.account_kind(a) != "partner", a))


def account_name(model: AccessModel, account: str) -> str:
    spec: Mapping[str, Any] = model.account_spec(account)
    return str(spec.get("name") or account)
