"""Custom role definitions, and every place a role is used.

A custom role must be for a product that allows custom roles, may copy
(``extends``) a managed role of that product, and may only set features of that
product at levels the feature allows. Wherever a role is used (a user, a group,
a grant) it must exist, be suitable for a product assigned beside it, and, for
a custom role, be used only in accounts that license its product.
"""

from __future__ import annotations

from accessplan.checks.context import Context, account_label, customers_phrase, holders
from accessplan.model import Account, Grant, Group, User, did_you_mean


def check_roles(ctx: Context) -> None:
    _definitions(ctx)
    for account in (ctx.manifest.partner, *ctx.manifest.customers):
        for holder in holders(account):
            for i, name in enumerate(holder.roles):
                _account_use(ctx, account, holder, i, name)
    for index, grant in enumerate(ctx.manifest.grants):
        for i, name in enumerate(grant.roles):
            _grant_use(ctx, index, grant, i, name)


def _definitions(ctx: Context) -> None:
    m, catalog = ctx.manifest, ctx.catalog
    for role in m.roles:
        product = catalog.products[role.product]
        if not product.custom_roles:
            allowed = ", ".join(p.name for p in catalog.products.values() if p.custom_roles)
            ctx.error(
                m.where(role, "product"),
                f"custom roles are not available for {role.product}",
                f"custom roles exist for {allowed}",
                "custom-role-product",
            )
            continue
        suitable = sorted(n for n, r in catalog.roles.items() if role.product in r.products)
        if role.extends is not None:
            base = catalog.roles.get(role.extends)
            if base is None:
                if role.extends in ctx.custom_roles:
                    message = f"'{role.extends}' is a custom role; 'extends' copies a managed role"
                else:
                    message = f"unknown managed role '{role.extends}'"
                ctx.error(
                    m.where(role, "extends"),
                    message,
                    did_you_mean(role.extends, suitable, f"managed roles for {role.product}: {', '.join(suitable)}"),
                    "bad-extends",
                )
            elif role.product not in base.products:
                ctx.error(
                    m.where(role, "extends"),
                    f"managed role '{role.extends}' is not for {role.product}",
                    f"managed roles for {role.product}: {', '.join(suitable)}",
                    "bad-extends",
                )
        for feature, level in role.permissions.items():
            levels = product.features.get(feature)
            if levels is None:
                ctx.error(
                    m.where(role, "permissions", feature, key=True),
                    f"'{feature}' is not a feature of {role.product}",
                    did_you_mean(feature, product.features, f"features of {role.product}: {', '.join(product.features)}"),
                    "unknown-feature",
                )
            elif level not in levels:
                ctx.error(
                    m.where(role, "permissions", feature),
                    f"{feature} cannot be set to {level} in {role.product}",
                    f"allowed levels: {', '.join(levels)}",
                    "level-not-allowed",
                )


def _unknown(ctx: Context, obj: object, i: int, name: str) -> None:
    ctx.error(
        ctx.manifest.where(obj, "roles", i),
        f"unknown role '{name}'",
        did_you_mean(name, ctx.role_names, "use a managed role of the catalog or a custom role declared under 'roles'"),
        "unknown-role",
    )


def _unsuitable_hint(name: str, products: tuple[str, ...]) -> str:
    return f"'{name}' is for {', '.join(products)}; assign one of them beside it, or choose a role for the products assigned"


def _account_use(ctx: Context, account: Account, holder: User | Group, i: int, name: str) -> None:
    products = ctx.role_products(name)
    if products is None:
        _unknown(ctx, holder, i, name)
        return
    custom = None if name in ctx.catalog.roles else ctx.custom_roles[name]
    if custom is not None and custom.product not in ctx.licensed(account):
        ctx.error(
            ctx.manifest.where(holder, "roles", i),
            f"custom role '{name}' is for {custom.product}, which {account_label(account)} does not license",
            "use a custom role only in accounts licensing its product",
            "custom-role-unlicensed",
        )
        return
    if not set(products) & set(holder.products):
        assigned = ", ".join(holder.products) or "none"
        ctx.error(
            ctx.manifest.where(holder, "roles", i),
            f"role '{name}' is suitable for none of the products assigned beside it ({assigned})",
            _unsuitable_hint(name, products),
            "unsuitable-role",
        )


def _grant_use(ctx: Context, index: int, grant: Grant, i: int, name: str) -> None:
    products = ctx.role_products(name)
    if products is None:
        _unknown(ctx, grant, i, name)
        return
    targets = ctx.targets[index]
    custom = None if name in ctx.catalog.roles else ctx.custom_roles[name]
    if custom is not None:
        missing = [c for c in targets if custom.product not in ctx.customer_licensed(c)]
        if missing:
            verb = "does" if len(missing) == 1 else "do"
            ctx.error(
                ctx.manifest.where(grant, "roles", i),
                f"custom role '{name}' is for {custom.product}, which {customers_phrase(missing)} {verb} not license",
                "use a custom role only in accounts licensing its product",
                "custom-role-unlicensed",
            )
            return
    suits = set(products)
    if suits & set(grant.products):
        return  # every assignment of this grant holds the grant's own products
    # Products may come from another grant on the same pair: judge each assignment.
    assignments = ctx.resolved.assignments
    failing: list[tuple[str, str, tuple[str, ...]]] = []
    for user in grant.users:
        for customer in targets:
            a = assignments.get((customer, user))
            held = a.products if a is not None else tuple(grant.products)
            if not suits & set(held):
                failing.append((user, customer, held))
    if not failing:
        return
    user, customer, held = min(failing)
    more = f" and {len(failing) - 1:,} more assignments" if len(failing) > 1 else ""
    ctx.error(
        ctx.manifest.where(grant, "roles", i),
        f"role '{name}' is suitable for none of the products assigned beside it ({', '.join(held) or 'none'}) "
        f"for {user} in customer '{customer}'{more}",
        _unsuitable_hint(name, products),
        "unsuitable-role",
    )
