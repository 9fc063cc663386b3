"""Grants: whom they name, what they give where, and how they overlap.

A grant is checked against every customer it reaches: a product it gives must
be licensed in each, its log rules must be possible and name existing logs in
each. Problems that repeat across many customers are reported once per grant,
listing the first few customers, so a ``"*"`` grant over 2,000 customers gives
one line, not 2,000.
"""

from __future__ import annotations

from collections import defaultdict

from accessplan.checks.context import (
    Context,
    customers_phrase,
    did_you_mean_user,
    plural,
)
from accessplan.model import Grant, did_you_mean
from accessplan.resolve import Pair, Source


def check_grants(ctx: Context) -> None:
    for index, grant in enumerate(ctx.manifest.grants):
        _references(ctx, grant)
        _products(ctx, index, grant)
        _logs(ctx, index, grant)
    _overlaps(ctx)
    _distribution_lists(ctx)


def _selects(grant: Grant, customer_id: str, ctx: Context) -> bool:
    """Whether the grant's ``customers`` picks ``customer_id`` (before exceptions)."""
    if grant.customers == "*":
        return True
    if isinstance(grant.customers, list):
        return customer_id in grant.customers
    labels = ctx.customers[customer_id].labels
    return all(labels.get(k) == v for k, v in grant.customers.labels.items())


def _references(ctx: Context, grant: Grant) -> None:
    m = ctx.manifest
    for i, email in enumerate(grant.users):
        if email not in ctx.partner_users:
            ctx.error(
                m.where(grant, "users", i),
                f"unknown partner user '{email}'",
                did_you_mean_user(email, ctx.partner_users, "grants give access to partner users; declare them under partner.users"),
                "unknown-user",
            )
    lists = [("except_customers", grant.except_customers)]
    if isinstance(grant.customers, list):
        lists.insert(0, ("customers", grant.customers))
    for key, ids in lists:
        for i, cid in enumerate(ids):
            if cid not in ctx.customers:
                ctx.error(
                    m.where(grant, key, i),
                    f"unknown customer '{cid}'",
                    did_you_mean(cid, ctx.customers, "declare the customer under customers"),
                    "unknown-customer",
                )
            elif key == "except_customers" and not _selects(grant, cid, ctx):
                ctx.warning(
                    m.where(grant, key, i),
                    f"except_customers names '{cid}', which this grant does not select",
                    "remove it from except_customers",
                    "except-not-selected",
                )


def _products(ctx: Context, index: int, grant: Grant) -> None:
    targets = ctx.targets[index]
    for i, product in enumerate(grant.products):
        missing = [c for c in targets if product not in ctx.customer_licensed(c)]
        if missing:
            ctx.error(
                ctx.manifest.where(grant, "products", i),
                f"{product} is not licensed in {customers_phrase(missing)}",
                "a grant gives its products in every customer it reaches; narrow the grant or license the product",
                "unlicensed-product",
            )


def _logs(ctx: Context, index: int, grant: Grant) -> None:
    rules = grant.logs
    if rules is None or not (rules.select or rules.restrict):
        return
    m = ctx.manifest
    customers = [ctx.customers[c] for c in ctx.targets[index]]
    open_logs = [c.id for c in customers if c.data_access.default_all_logs]
    if open_logs:
        ctx.error(
            m.where(grant, "logs", key=True),
            f"log rules need data_access.default_all_logs: false in {customers_phrase(open_logs)}",
            "a grant's log rules apply in every customer it reaches; set default_all_logs: false there, or narrow the grant",
            "log-rules-default-all",
        )
    for key in ("select", "restrict"):
        for i, name in enumerate(getattr(rules, key)):
            lacking = [c for c in customers if name not in ctx.log_names(c)]
            if lacking:
                missing = [c.id for c in lacking]
                known = set().union(*(ctx.log_names(c) for c in lacking))
                ctx.error(
                    m.where(grant, "logs", key, i),
                    f"no log or log set '{name}' in {customers_phrase(missing)}",
                    did_you_mean(name, known, "a grant's log rules must name logs or log sets of every customer it reaches"),
                    "unknown-log",
                )


_OVERLAP_HINTS = {
    "platform_admin": "where grants overlap, explicit platform_admin values must agree; drop it from one grant or make them equal",
    "expiry": "where grants overlap, explicit expiries must agree (48h equals 2d); drop duration/until from one grant or make them equal",
}


def _overlaps(ctx: Context) -> None:
    m = ctx.manifest
    grouped: dict[tuple[str, Source, Source, str, str], list[Pair]] = defaultdict(list)
    for o in ctx.resolved.overlaps:
        grouped[(o.field, o.first, o.second, o.first_value, o.second_value)].append(o.pair)
    for (field, first, second, first_value, second_value), pairs in grouped.items():
        customer, user = min(pairs)
        earlier = first.describe(m)
        first_value = _as_written(ctx, first, field, first_value)
        second_value = _as_written(ctx, second, field, second_value)
        if second.kind == "grant":
            position = m.where(m.grants[second.index])
            message = f"grant gives {user} on {customer} {field} {second_value}, but the {earlier} gives {first_value}"
        else:  # a POC's first user: expanded after every grant
            poc = ctx.customers[customer].poc
            position = m.where(poc, "first_user")
            message = f"the POC gives its first user {user} on {customer} {field} {second_value}, but the {earlier} gives {first_value}"
        if len(pairs) > 1:
            more = plural(len(pairs) - 1, "more user/customer pair")
            message += f"; {more} {'overlaps' if len(pairs) == 2 else 'overlap'} the same way"
        ctx.error(position, message, _OVERLAP_HINTS.get(field), "grant-overlap")


def _as_written(ctx: Context, source: Source, field: str, value: str) -> str:
    """An expiry as the grant spells it (``48h`` stays ``48h``), so the user finds it."""
    if field == "expiry" and source.kind == "grant":
        grant = ctx.manifest.grants[source.index]
        if grant.duration is not None:
            return grant.duration
    return value


def admin_source(ctx: Context, sources: tuple[Source, ...]) -> Source | None:
    """The source that made an assignment a platform admin: a grant or a POC."""
    for s in sources:
        if s.kind == "poc_first_user" or (s.kind == "grant" and ctx.manifest.grants[s.index].platform_admin):
            return s
    return None


def _distribution_lists(ctx: Context) -> None:
    lists = {email for email, u in ctx.partner_users.items() if u.distribution_list}
    if not lists:
        return
    m = ctx.manifest
    for index, grant in enumerate(m.grants):
        if not grant.platform_admin or not ctx.targets[index]:
            continue
        for i, user in enumerate(grant.users):
            if user in lists:
                ctx.error(
                    m.where(grant, "users", i),
                    f"grant makes distribution list '{user}' a platform administrator in {customers_phrase(ctx.targets[index])}",
                    "a distribution list stays read-only; give it a grant without platform_admin",
                    "distribution-list-admin",
                )
    for customer in m.customers:
        if customer.poc is not None and customer.poc.first_user in lists:
            ctx.error(
                m.where(customer.poc, "first_user"),
                f"distribution list '{customer.poc.first_user}' cannot be the first user of a POC, who becomes its platform administrator",
                "choose a person as the POC's first user",
                "distribution-list-admin",
            )
