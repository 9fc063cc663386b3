"""Licensing inside each account, and proofs of concept.

A product given to a user or group must be licensed in its account; every
customer licenses something. A POC prospect is created by the partner, so it
needs a region and a first user who is a partner user; POCs exist only for the
products the catalog allows (seed). A POC license adds a product the customer
does not have yet, and its product administrator needs an assignment there.
"""

from __future__ import annotations

from accessplan.checks.context import Context, account_label, did_you_mean_user, holders
from accessplan.model import Account, Customer


def check_accounts(ctx: Context) -> None:
    for account in (ctx.manifest.partner, *ctx.manifest.customers):
        _products(ctx, account)
    for customer in ctx.manifest.customers:
        if not ctx.licensed(customer):
            ctx.error(
                ctx.manifest.where(customer),
                f"customer '{customer.id}' licenses no product",
                "list its 'products', or give it a 'poc' or 'poc_licenses'",
                "no-license",
            )
        _poc(ctx, customer)
        _poc_licenses(ctx, customer)


def _products(ctx: Context, account: Account) -> None:
    licensed = ctx.licensed(account)
    for holder in holders(account):
        for i, product in enumerate(holder.products):
            if product not in licensed:
                ctx.error(
                    ctx.manifest.where(holder, "products", i),
                    f"{product} is not licensed in {account_label(account)}",
                    f"{account_label(account)} licenses {ctx.licensed_list(licensed)}",
                    "unlicensed-product",
                )


def _poc_allowed(ctx: Context) -> str:
    return ", ".join(p.name for p in ctx.catalog.products.values() if p.poc_allowed)


def _partner_user(ctx: Context, email: str, obj: object, *sub: str | int, role: str) -> bool:
    """Report ``email`` unless it is a partner user; say whether it is one."""
    if email in ctx.partner_users:
        return True
    ctx.error(
        ctx.manifest.where(obj, *sub),
        f"unknown partner user '{email}'",
        did_you_mean_user(email, ctx.partner_users, f"the {role} is a partner user; declare them under partner.users"),
        "unknown-user",
    )
    return False


def _poc(ctx: Context, customer: Customer) -> None:
    poc = customer.poc
    if poc is None:
        return
    m = ctx.manifest
    if customer.region is None:
        ctx.error(
            m.where(customer),
            f"POC prospect '{customer.id}' has no region",
            "add 'region': the partner creates the account, in the data storage region it chooses",
            "poc-region",
        )
    for i, product in enumerate(poc.products):
        if not ctx.catalog.products[product].poc_allowed:
            ctx.error(
                m.where(poc, "products", i),
                f"{product} is not available on a POC",
                f"POCs exist for {_poc_allowed(ctx)}",
                "poc-product",
            )
    _partner_user(ctx, poc.first_user, poc, "first_user", role="POC's first user")


def _poc_licenses(ctx: Context, customer: Customer) -> None:
    m = ctx.manifest
    owned = set(customer.products)
    if customer.poc is not None:
        owned.update(customer.poc.products)
    for lic in customer.poc_licenses:
        if not ctx.catalog.products[lic.product].poc_allowed:
            ctx.error(
                m.where(lic, "product"),
                f"{lic.product} is not available on a POC",
                f"POCs exist for {_poc_allowed(ctx)}",
                "poc-product",
            )
        elif lic.product in owned:
            ctx.error(
                m.where(lic, "product"),
                f"customer '{customer.id}' already licenses {lic.product}",
                "a POC license is for a product the customer does not have yet; remove it",
                "poc-license-owned",
            )
        if not _partner_user(ctx, lic.product_admin, lic, "product_admin", role="product administrator"):
            continue
        if (customer.id, lic.product_admin) not in ctx.resolved.assignments:
            ctx.error(
                m.where(lic, "product_admin"),
                f"product administrator '{lic.product_admin}' has no assignment to customer '{customer.id}'",
                f"add a grant giving {lic.product_admin} access to {customer.id} (a quick-add grant is enough)",
                "poc-admin-without-assignment",
            )
