"""Shared helpers for the access tests (no tests here): small manifests through the real pipeline.

Every scenario is YAML written to a file, loaded with ``load_manifest``, expanded
with ``resolve`` and turned into resources by ``desired_resources`` before the
access engine sees it — the path every command takes.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accessplan.access import Access, AccessModel
from accessplan.desired import desired_resources
from accessplan.loader import Manifest, load_manifest
from accessplan.resolve import Resolved, resolve

PARTNER = """\
version: 1
partner:
  id: acme-mssp
  name: Acme Managed Security
  region: us
  products: [InsightIDR]
  users:
    - {email: bob@acme.example, first_name: Bob, last_name: Okafor, timezone: UTC}
    - {email: eve@acme.example, first_name: Eve, last_name: Ng, timezone: UTC}
    - {email: dl@acme.example, first_name: SOC, last_name: Reports, timezone: UTC, distribution_list: true}
"""


@dataclass
class Org:
    manifest: Manifest
    resolved: Resolved
    resources: dict[str, dict[str, Any]]
    model: AccessModel

    def access(self, user: str = "bob@acme.example", account: str = "globex") -> Access:
        acc = self.model.access(account, user)
        assert acc is not None
        return acc


def write(path: Path, body: str, partner: str = PARTNER) -> Path:
    path.write_text(partner + textwrap.dedent(body), encoding="utf-8")
    return path


def build(tmp_path: Path, body: str, name: str = "manifest.yaml", partner: str = PARTNER) -> Org:
    path = write(tmp_path / name, body, partner)
    return load(path)


def load(path: Path) -> Org:
    manifest = load_manifest(path)
    resolved = resolve(manifest)
    resources = desired_resources(manifest, resolved)
    return Org(manifest, resolved, resources, AccessModel(resources))


def customer(logs: str = "", groups: str = "", products: str = "[InsightIDR]", default_all_logs: bool = False, extra: str = "") -> str:
    """A customer 'globex' block; ``logs`` and ``groups`` are YAML fragments at item indentation."""
    text = f"""\
customers:
  - id: globex
    name: Globex Corporation
    region: eu
    products: {products}
    data_access: {{default_all_logs: {str(default_all_logs).lower()}}}
"""
    for fragment in (logs, groups, extra):
        if fragment:
            text += textwrap.indent(textwrap.dedent(fragment), "    ")
    return text
