"""Importing this module attaches every command to :data:`accessplan.cli.cli`."""

from accessplan.cli import access_cmd, customer_cmd, plan_cmd, state_cmd, validate_cmd  # noqa: F401
from accessplan.cli import gitops_cmd

# Last, after every command is attached: an example in each command's --help.
gitops_cmd.attach_examples()
