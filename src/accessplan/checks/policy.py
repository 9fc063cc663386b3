"""The ``policy`` block: access invariants the partner sets for itself.

Policies are judged on the assignments the manifest gives (after grants are
expanded and merged), and each violation names the grant or the customer that
breaks it. A POC's first user is exempt from the rules about admin expiry: that
admin assignment is made by the platform when the POC is created and ends with
the POC, not by a grant the partner could shorten.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from accessplan.checks.context import Context, customers_phrase, plural
from accessplan.checks.grants import admin_source
from accessplan.model import Policy, duration_hours
from accessplan.resolve import Assignment


def check_policy(ctx: Context) -> None:
    policy = ctx.manifest.policy
    if policy is None:
        return
    admins = [a for a in ctx.resolved.assignments.values() if a.platform_admin]
    if policy.min_platform_admins_per_customer:
        _min_admins(ctx, policy, admins)
    if policy.forbid_permanent_platform_admin:
        _permanent(ctx, admins)
    if policy.max_admin_duration is not None:
        _duration(ctx, policy, admins)
    if policy.max_admin_customers_per_user is not None:
        _customers_per_user(ctx, policy, admins)


def _min_admins(ctx: Context, policy: Policy, admins: list[Assignment]) -> None:
    wanted = policy.min_platform_admins_per_customer
    counts: dict[str, int] = defaultdict(int)
    for a in admins:
        counts[a.customer] += 1
    for customer in ctx.customers.values():
        have = counts[customer.id]
        if have < wanted:
            ctx.error(
                ctx.manifest.where(customer),
                f"customer '{customer.id}' has {plural(have, 'platform-admin assignment')}, "
                f"fewer than policy min_platform_admins_per_customer ({wanted})",
                f"grant platform_admin: true to more partner users on {customer.id}",
                "policy-min-admins",
            )


def _permanent(ctx: Context, admins: list[Assignment]) -> None:
    by_grant: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for a in admins:
        if a.expiry.permanent:
            source = admin_source(ctx, a.sources)
            if source is not None and source.kind == "grant":
                by_grant[source.index].append((a.user, a.customer))
    for index, pairs in sorted(by_grant.items()):
        user = min(pairs)[0]
        customers = [c for u, c in pairs if u == user]
        others = len(pairs) - len(customers)
        more = f" (and {plural(others, 'more assignment')})" if others else ""
        ctx.error(
            ctx.manifest.where(ctx.manifest.grants[index]),
            f"grant makes {user} a permanent platform admin in {customers_phrase(customers)}{more}, "
            "which policy forbid_permanent_platform_admin forbids",
            "give the grant a duration or an until",
            "policy-permanent-admin",
        )


def _expiry_grant(ctx: Context, a: Assignment) -> int | None:
    """The grant that set an assignment's expiry: the first with an explicit one."""
    for s in a.sources:
        if s.kind == "grant":
            grant = ctx.manifest.grants[s.index]
            if grant.duration is not None or grant.until is not None:
                return s.index
    return None


def _duration(ctx: Context, policy: Policy, admins: list[Assignment]) -> None:
    limit = duration_hours(policy.max_admin_duration)
    if limit is None:  # "permanent": no limit
        return
    now = ctx.now
    flagged: set[int] = set()
    for a in admins:
        expiry = a.expiry
        too_long = (expiry.hours is not None and expiry.hours > limit) or (
            expiry.until is not None and now is not None and expiry.until - now > timedelta(hours=limit)
        )
        if too_long:
            index = _expiry_grant(ctx, a)
            if index is not None:
                flagged.add(index)
    m = ctx.manifest
    for index in sorted(flagged):
        grant = m.grants[index]
        if grant.until is not None:
            ctx.error(
                m.where(grant, "until"),
                f"grant gives platform admin until {grant.until:%Y-%m-%dT%H:%M:%SZ}, "
                f"more than policy max_admin_duration ({policy.max_admin_duration}) from now",
                "move 'until' closer, or use a duration (it counts from the apply that creates the assignment)",
                "policy-admin-duration",
            )
        else:
            ctx.error(
                m.where(grant, "duration"),
                f"grant gives platform admin for {grant.duration}, longer than policy max_admin_duration ({policy.max_admin_duration})",
                "shorten the duration",
                "policy-admin-duration",
            )


def _customers_per_user(ctx: Context, policy: Policy, admins: list[Assignment]) -> None:
    limit = policy.max_admin_customers_per_user
    assert limit is not None
    per_user: dict[str, set[str]] = defaultdict(set)
    for a in admins:
        per_user[a.user].add(a.customer)
    m = ctx.manifest
    for user, customers in sorted(per_user.items()):
        if len(customers) <= limit:
            continue
        position = None
        # Blame the grant that takes the user over the limit, in reading order.
        reached: set[str] = set()
        for index, grant in enumerate(m.grants):
            if grant.platform_admin and user in grant.users:
                reached.update(c for c in ctx.targets[index] if c in customers)
                if len(reached) > limit:
                    position = m.where(grant, "users", grant.users.index(user))
                    break
        if position is None:
            holder = ctx.partner_users.get(user)
            position = m.where(holder) if holder is not None else m.where(m.partner)
        ctx.error(
            position,
            f"{user} is platform admin in {plural(len(customers), 'customer')}, "
            f"more than policy max_admin_customers_per_user ({limit:,})",
            "narrow the grants that make this user an administrator",
            "policy-admin-customers",
        )
