"""``validate``: every rule of SPEC section 2 that needs the whole manifest.

The loader has already refused what one file can get wrong on its own (YAML,
keys, types, values). What is left spans objects and files: names that must be
unique, references that must resolve, licensing, POCs, log rules, overlapping
grants, distribution lists and the partner's own ``policy``. Each rule lives in
:mod:`accessplan.checks`; this module runs them all and adds the diagnostics
that belong to other layers:

- privilege conflicts and the effective View-Only check of distribution lists
  come from the access engine (:func:`accessplan.access.access_diagnostics`);
- a grant whose relative expiry has passed can only be known from state, so the
  caller passes those in as ``state_diagnostics``.

Nothing is raised: the caller decides what errors and warnings mean.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accessplan.checks.accounts import check_accounts
from accessplan.checks.context import Context
from accessplan.checks.grants import check_grants
from accessplan.checks.members import check_members
from accessplan.checks.names import check_names
from accessplan.checks.policy import check_policy
from accessplan.checks.roles import check_roles
from accessplan.errors import Diagnostic, ManifestError, Position, sorted_diagnostics
from accessplan.loader import (
    DEFAULT_MAX_BYTES,
    Manifest,
    display_name,
    load_manifest,
    no_gc,
)
from accessplan.resolve import Resolved, resolve

if TYPE_CHECKING:
    from accessplan.access import AccessModel

RULES = (check_names, check_roles, check_accounts, check_members, check_grants, check_policy)


def validate_manifest(
    manifest: Manifest,
    resolved: Resolved,
    now: datetime | None = None,
    *,
    state_diagnostics: Iterable[Diagnostic] = (),
    resources: Mapping[str, Mapping[str, Any]] | None = None,
    access_model: AccessModel | None = None,
) -> list[Diagnostic]:
    """Every cross-reference problem of ``manifest``, in reading order.

    ``resolved`` is ``resolve(manifest)``: the expanded grants. ``now`` is needed
    only by ``policy.max_admin_duration`` for grants with an absolute ``until``;
    without it those are not judged. ``state_diagnostics`` are the warnings only
    state can give (a relative expiry that has passed), merged in as they are.
    ``resources``: the manifest's desired resources, when the caller (``plan``)
    has built them already; the access checks build them otherwise, and the
    access engine over them unless ``access_model`` is given.
    """
    from accessplan.access import (
        access_diagnostics,  # the engine is imported only when needed
    )

    ctx = Context(manifest, resolved, now)
    for rule in RULES:
        rule(ctx)
    ctx.diagnostics.extend(access_diagnostics(manifest, resolved, resources, model=access_model))
    ctx.diagnostics.extend(state_diagnostics)
    return sorted_diagnostics(ctx.diagnostics)


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of validating one manifest path."""

    path: str
    diagnostics: list[Diagnostic]
    manifest: Manifest | None = None
    resolved: Resolved | None = None

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "warning")

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def summary(self) -> dict[str, int | None]:
        """Counts for the report; what could not be loaded counts as ``None``."""
        m, r = self.manifest, self.resolved
        return {
            "assignments": len(r.assignments) if r is not None else None,
            "customers": len(m.customers) if m is not None else None,
            "errors": self.errors,
            "files": len(m.files) if m is not None else None,
            "partner_users": len(m.partner.users) if m is not None else None,
            "warnings": self.warnings,
        }


def validate_path(
    path: str | Path,
    *,
    now: datetime | None = None,
    strict: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    state_location: str | None = None,
) -> Report:
    """Load, expand and check the manifest at ``path``; every problem in one report.

    A manifest the loader refuses reports the loader's diagnostics only: the
    rules need a whole manifest. ``strict`` turns warnings into errors.
    """
    with no_gc():  # acyclic data throughout; the collector would only rescan it
        try:
            manifest = load_manifest(path, max_bytes=max_bytes)
        except ManifestError as exc:
            report = Report(display_name(Path(path)), exc.diagnostics)
        else:
            try:
                resolved = resolve(manifest)
                from_state = _state_diagnostics(manifest, resolved, state_location, now)
                found = validate_manifest(manifest, resolved, now, state_diagnostics=from_state)
            except ManifestError as exc:  # a file only the strict reader refuses, found when a rule asked for positions
                report = Report(manifest.root, exc.diagnostics)
            else:
                report = Report(manifest.root, found, manifest, resolved)
    if strict:
        upgraded = [replace(d, severity="error") if d.severity == "warning" else d for d in report.diagnostics]
        report = replace(report, diagnostics=upgraded)
    return report


def _state_diagnostics(manifest: Manifest, resolved: Resolved, location: str | None, now: datetime | None) -> list[Diagnostic]:
    """What only state can tell (a relative expiry that has passed, a policy the state
    will break after the next plan); nothing without a state.

    A state that cannot be used is reported as an error at its location: it
    would refuse every plan too.
    """
    if location is None or now is None:
        return []
    from accessplan.errors import StateError
    from accessplan.expiry import stale_grant_diagnostics
    from accessplan.state import open_backend

    try:
        state = open_backend(location).read(manifest.partner.id)
    except StateError as exc:
        return [Diagnostic("error", Position(location), exc.message, exc.hint, "state")]
    from accessplan.policy_check import state_diagnostics as policy_diagnostics

    return stale_grant_diagnostics(manifest, resolved, state, now) + policy_diagnostics(manifest, resolved, state, now)
