"""The access review: one row per assignment, for whoever certifies access.

Each row says who reaches which customer, as what (admin flag, effective
products and the roles behind them, groups) and until when. The provenance
columns (``granted_at``, ``granted_by``, ``change_ref``) and ``status`` come
from state: :func:`review_rows` takes the state's ``status`` per address and
leaves the columns empty without it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from accessplan.access import AccessModel
from accessplan.errors import sanitize

COLUMNS = (
    "customer",
    "customer_name",
    "user",
    "platform_admin",
    "products",
    "roles",
    "groups",
    "expiry",
    "granted_at",
    "granted_by",
    "change_ref",
    "status",
)
FORMAT_VERSION = 1


def review_rows(model: AccessModel, statuses: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Rows sorted by (customer, user). ``statuses``: ``{address: status}`` from state, if any."""
    rows: list[dict[str, Any]] = []
    for account in model.accounts():
        if model.account_kind(account) != "customer":
            continue
        name = str(model.account_spec(account).get("name") or account)
        for user in model.users(account):
            acc = model.access(account, user)
            if acc is None or acc.expiry is None:
                continue  # the customer's own staff: not an assignment
            status = (statuses or {}).get(f"assignment/{account}/{user}") or {}
            rows.append(
                {
                    "change_ref": status.get("change_ref"),
                    "customer": account,
                    "customer_name": name,
                    "expiry": acc.expiry,
                    "granted_at": status.get("granted_at"),
                    "granted_by": status.get("granted_by"),
                    "groups": list(acc.groups),
                    "platform_admin": acc.platform_admin,
                    "products": list(acc.products),
                    "roles": sorted({src.role if src.group is None else f"{src.role} (via group {src.group})" for src in acc.roles}),
                    "status": status.get("status"),
                    "user": user,
                }
            )
    return rows


def review_json(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"columns": list(COLUMNS), "format_version": FORMAT_VERSION, "rows": rows}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = sanitize(str(value))
    # A spreadsheet runs a cell starting with one of these as a formula: keep it text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def review_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return buf.getvalue()
