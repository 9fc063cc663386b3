"""The cross-reference rules of a manifest (SPEC section 2), one module per concern.

Pydantic has already checked each file on its own; these rules need the whole
manifest (and its expanded grants) at once. :mod:`accessplan.validate` runs them
in order over one shared :class:`~accessplan.checks.context.Context`, which
collects the diagnostics. Every rule reports and goes on, so a user sees every
problem in one run.
"""
