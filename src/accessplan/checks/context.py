"""What every rule needs: the manifest, its assignments, look-ups, and the diagnostics.

Look-ups (users by email, customers by id, what each account licenses, which
customers each grant reaches) are built once here, so each rule stays a short
loop. Positions are asked of the manifest only when a diagnostic is made: the
second, position-keeping parse of a file happens only when it has a problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from datetime import datetime

from accessplan.catalog import Catalog, load_catalog
from accessplan.errors import Diagnostic, Position, Severity
from accessplan.loader import Manifest
from accessplan.model import Account, Customer, CustomRole, Group, Partner, User
from accessplan.resolve import Resolved, grant_customers, licensed_products

#: How many names a message lists before it says "and N more".
LIST_LIMIT = 3


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 error``, ``2 errors``."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def quoted_list(names: Iterable[str], limit: int = LIST_LIMIT) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b', 'c' and 4 more``: sorted, bounded."""
    items = sorted(set(names))
    shown = [f"'{n}'" for n in items[:limit]]
    rest = len(items) - len(shown)
    if rest:
        return f"{', '.join(shown)} and {rest:,} more"
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def customers_phrase(ids: Iterable[str]) -> str:
    """``customer 'a'`` or ``customers 'a', 'b' and 'c'``."""
    items = set(ids)
    return f"{'customer' if len(items) == 1 else 'customers'} {quoted_list(items)}"


def did_you_mean_user(email: str, choices: Iterable[str], fallback: str) -> str:
    """A "did you mean" for a misspelt email, or ``fallback``.

    Emails of one organisation share their domain, which makes any two of them
    look alike to a general matcher (``carol@x`` would suggest ``alice@x``); only
    a near miss is worth suggesting.
    """
    match = difflib.get_close_matches(email, list(choices), n=1, cutoff=0.85)
    return f"did you mean '{match[0]}'?" if match else fallback


def holders(account: Account) -> list[User | Group]:
    """Everything in an account that holds products, roles and log rules."""
    return [*account.users, *account.groups]


def account_label(account: Account) -> str:
    return "the partner account" if isinstance(account, Partner) else f"customer '{account.id}'"


class Later:
    """The position of ``obj`` (or of ``sub`` in it), computed only if a message needs it.

    Rules remember the first declaration of every name; asking for its position
    at once would parse every file a second time even when nothing is wrong.
    """

    __slots__ = ("_manifest", "_obj", "_sub")

    def __init__(self, manifest: Manifest, obj: object, *sub: str | int) -> None:
        self._manifest = manifest
        self._obj = obj
        self._sub = sub

    @property
    def short(self) -> str:
        return self._manifest.where(self._obj, *self._sub).short


class Context:
    """One validation run: inputs, look-ups and the diagnostics found so far."""

    def __init__(self, manifest: Manifest, resolved: Resolved, now: datetime | None) -> None:
        self.manifest = manifest
        self.resolved = resolved
        self.now = now
        self.catalog: Catalog = load_catalog()
        self.diagnostics: list[Diagnostic] = []
        partner = manifest.partner
        # The first declaration wins; duplicates are reported by the names rules.
        self.partner_users: dict[str, User] = {}
        for user in partner.users:
            self.partner_users.setdefault(user.email, user)
        self.customers: dict[str, Customer] = {}
        for customer in manifest.customers:
            self.customers.setdefault(customer.id, customer)
        self.custom_roles: dict[str, CustomRole] = {}
        for role in manifest.roles:
            self.custom_roles.setdefault(role.name, role)
        self.role_names = sorted({*self.catalog.roles, *self.custom_roles})
        self._licensed: dict[int, frozenset[str]] = {id(partner): frozenset(partner.products)}
        for customer in manifest.customers:
            self._licensed[id(customer)] = frozenset(licensed_products(customer))
        known = set(self.customers)
        self.targets: list[list[str]] = [grant_customers(g, manifest.customers, known) for g in manifest.grants]
        self._log_names: dict[int, frozenset[str]] = {}

    # --- reporting ------------------------------------------------------------------

    def report(self, severity: Severity, position: Position, message: str, hint: str | None, code: str) -> None:
        self.diagnostics.append(Diagnostic(severity, position, message, hint, code))

    def error(self, position: Position, message: str, hint: str | None, code: str) -> None:
        self.report("error", position, message, hint, code)

    def warning(self, position: Position, message: str, hint: str | None, code: str) -> None:
        self.report("warning", position, message, hint, code)

    # --- look-ups ---------------------------------------------------------------------

    def licensed(self, account: Account) -> frozenset[str]:
        """Products an account licenses (a customer's POC and POC licenses included)."""
        return self._licensed[id(account)]

    def customer_licensed(self, customer_id: str) -> frozenset[str]:
        return self._licensed[id(self.customers[customer_id])]

    def role_products(self, name: str) -> tuple[str, ...] | None:
        """Products a managed or custom role suits; ``None`` for an unknown role."""
        managed = self.catalog.roles.get(name)
        if managed is not None:
            return managed.products
        custom = self.custom_roles.get(name)
        return (custom.product,) if custom is not None else None

    def log_names(self, account: Account) -> frozenset[str]:
        """Every log and log-set name of an account (one name space, SPEC section 1)."""
        key = id(account)
        names = self._log_names.get(key)
        if names is None:
            found = set(account.logs)
            for log_set in account.log_sets:
                found.add(log_set.name)
                found.update(log_set.logs)
            names = self._log_names[key] = frozenset(found)
        return names

    def licensed_list(self, products: Sequence[str] | frozenset[str]) -> str:
        return ", ".join(sorted(products)) if products else "no product"
