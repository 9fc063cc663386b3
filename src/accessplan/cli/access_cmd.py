"""Commands: (being written)."""

from accessplan.cli import cli  # noqa: F401
