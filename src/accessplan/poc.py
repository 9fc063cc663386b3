"""POC licenses: finding one, and the request email to extend or purchase it.

A proof of concept comes two ways (seed): a *prospect* the partner creates
(``customers[].poc``: its products, its first user, when the licenses end),
and a *product POC* on an existing customer (``customers[].poc_licenses``:
one product, its product administrator, its end). Neither the extension nor
the purchase of a POC is self-serve: the partner writes to its platform
vendor, with the product's details. ``accessplan poc email CUSTOMER PRODUCT
--extend|--purchase`` renders that email from a jinja2 template
(``templates/poc_email_*.j2``), plain text, every manifest string sanitized.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from accessplan.catalog import Product, load_catalog
from accessplan.errors import AccessplanError
from accessplan.loader import Manifest
from accessplan.model import Customer, did_you_mean
from accessplan.resolve import license_active

Request = Literal["extend", "purchase"]


@dataclass(frozen=True, slots=True)
class PocLicense:
    """One POC license of one product in one customer, with what the email needs."""

    partner_id: str
    partner_name: str
    customer_id: str
    customer_name: str
    region: str | None
    product: Product
    prospect: bool  # True: a POC prospect's license; False: a POC license on an existing customer
    expires: date
    contact: str  # the prospect's first user, or the license's product administrator
    paid: tuple[str, ...]  # products the customer licenses outright
    other_pocs: tuple[str, ...]  # its other POC products


def find_license(manifest: Manifest, customer_id: str, product_name: str) -> PocLicense:
    """The POC license of ``product_name`` (name or short code) at ``customer_id``; a clear error if none."""
    customers = {c.id: c for c in manifest.customers}
    customer = customers.get(customer_id)
    if customer is None:
        raise AccessplanError(f"unknown customer '{customer_id}'", did_you_mean(customer_id, customers, "the customer is not in the manifest"))
    catalog = load_catalog()
    product = catalog.product(product_name)
    if product is None:
        raise AccessplanError(
            f"unknown product '{product_name}'",
            did_you_mean(product_name, catalog.product_names(), f"products are {', '.join(catalog.products)}"),
        )
    pocs = _pocs(customer)
    if product.name not in pocs:
        hint = f"its POC licenses are for {', '.join(sorted(pocs))}" if pocs else "it has no POC license (poc or poc_licenses)"
        raise AccessplanError(f"customer '{customer_id}' has no POC license for {product.name}", hint)
    prospect, expires, contact = pocs[product.name]
    return PocLicense(
        partner_id=manifest.partner.id,
        partner_name=manifest.partner.name,
        customer_id=customer.id,
        customer_name=customer.name,
        region=customer.region,
        product=product,
        prospect=prospect,
        expires=expires,
        contact=contact,
        paid=tuple(sorted(customer.products)),
        other_pocs=tuple(sorted(p for p in pocs if p != product.name and p not in customer.products)),
    )


def _pocs(customer: Customer) -> dict[str, tuple[bool, date, str]]:
    """Product -> (prospect?, expires, contact) for every POC license of a customer."""
    out: dict[str, tuple[bool, date, str]] = {}
    if customer.poc is not None:
        for product in customer.poc.products:
            out[product] = (True, customer.poc.expires, customer.poc.first_user)
    for lic in customer.poc_licenses:
        out[lic.product] = (False, lic.expires, lic.product_admin)
    return out


def time_left(expires: date, now: datetime) -> str:
    """How the license stands at ``now``; it lasts through its ``expires`` day (UTC)."""
    today = now.date()
    if not license_active(expires, now):
        days = (today - expires).days
        return f"expired {days} day{'s' if days != 1 else ''} ago"
    days = (expires - today).days
    if days == 0:
        return "last day today"
    return f"{days} day{'s' if days != 1 else ''} left"


def render_email(lic: PocLicense, request: Request, now: datetime) -> str:
    """The request email for the platform vendor, as plain text ending with a newline."""
    from accessplan.render import template

    render = template(f"poc_email_{request}.j2", False)
    return render(lic=lic, time_left=time_left(lic.expires, now), today=now.date().isoformat())
