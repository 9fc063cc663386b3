"""Importing this module attaches every command to :data:`accessplan.cli.cli`."""

from accessplan.cli import access_cmd, plan_cmd, validate_cmd  # noqa: F401
