"""access_diagnostics: conflicts as warnings and the distribution-list rule as errors, placed where they can be fixed."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_access_support import build, customer

from accessplan.access import access_diagnostics


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # file names in positions are relative to the working directory


def _render(tmp_path: Path, body: str) -> list[str]:
    org = build(tmp_path, body)
    return [d.render() for d in access_diagnostics(org.manifest, org.resolved)]


def test_user_conflict_is_a_warning_at_the_first_grant(tmp_path: Path) -> None:
    body = customer() + """\
grants:
  - users: [bob@acme.example]
    customers: [globex]
    products: [InsightIDR]
    roles: [InsightIDR Admin]
  - users: [bob@acme.example]
    customers: [globex]
    roles: [InsightIDR Viewer]
"""
    assert _render(tmp_path, body) == [
        ("manifest.yaml:18:5: warning: privilege conflict for bob@acme.example in globex: InsightIDR feature Detection and Response "
        "Dashboards is given at View Only by role InsightIDR Viewer, direct and at Administer by role InsightIDR Admin, direct; "
        "least privilege makes it View Only (hint: give the feature one level: change the roles assigned directly or through the user's groups)"),
        ("manifest.yaml:18:5: warning: privilege conflict for bob@acme.example in globex: InsightIDR feature InsightIDR Core "
        "is given at View Only by role InsightIDR Viewer, direct and at Administer by role InsightIDR Admin, direct; "
        "least privilege makes it View Only (hint: give the feature one level: change the roles assigned directly or through the user's groups)"),
    ]


def test_group_conflict_is_a_warning_at_the_group(tmp_path: Path) -> None:
    groups = """\
groups:
  - name: Mixed
    products: [InsightOps]
    roles: [InsightOps Admin, InsightOps View Only]
"""
    assert _render(tmp_path, customer(products="[InsightOps]", groups=groups)) == [
        ("manifest.yaml:18:9: warning: privilege conflict in group Mixed of globex: InsightOps feature InsightOps Core is given "
        "at View Only by role InsightOps View Only via group Mixed and at Administer by role InsightOps Admin via group Mixed; "
        "least privilege makes it View Only (hint: make the group's roles agree on the feature's level)")
    ]


def test_insufficient_access_through_a_group_is_placed_at_the_group(tmp_path: Path) -> None:
    groups = """\
groups:
  - name: Readers
    products: [InsightIDR]
    members: [bob@acme.example]
"""
    body = customer(groups=groups) + "grants:\n  - users: [bob@acme.example]\n    customers: [globex]\n"
    assert _render(tmp_path, body) == [
        ("manifest.yaml:18:9: warning: insufficient access for bob@acme.example in globex: InsightIDR is assigned (via group Readers) "
        "but no role gives its core feature InsightIDR Core at View Only or above (no role applies to it), so the product is of "
        "no use to them (hint: assign a role reaching InsightIDR Core, directly or through a group, e.g. InsightIDR Viewer)")
    ]


def test_account_user_conflict_is_placed_at_the_user_entry(tmp_path: Path) -> None:
    staff = """\
users:
  - email: nadia@globex.example
    first_name: Nadia
    last_name: Petrova
    timezone: Europe/Berlin
    products: [InsightIDR]
    roles: [Log Search View Only]
"""
    assert _render(tmp_path, customer(extra=staff)) == [
        ("manifest.yaml:18:9: warning: insufficient access for nadia@globex.example in globex: InsightIDR is assigned (directly) "
        "but no role gives its core feature InsightIDR Core at View Only or above (roles applying to it: role Log Search View Only, "
        "direct), so the product is of no use to them (hint: assign a role reaching InsightIDR Core, directly or through a group, "
        "e.g. InsightIDR Viewer)")
    ]


def test_distribution_list_above_view_only_through_a_group_is_an_error(tmp_path: Path) -> None:
    groups = """\
groups:
  - name: Analysts
    products: [InsightIDR]
    roles: [InsightIDR Analyst]
    members: [dl@acme.example]
"""
    body = customer(groups=groups) + "grants:\n  - users: [dl@acme.example]\n    customers: [globex]\n"
    assert _render(tmp_path, body) == [
        ("manifest.yaml:18:9: error: distribution list dl@acme.example must stay at View Only, but in globex it gets InsightIDR "
        "feature Detection and Response Dashboards at View and Change from role InsightIDR Analyst via group Analysts "
        "(hint: give distribution lists only roles that stay at View Only, such as InsightIDR Viewer)"),
        ("manifest.yaml:18:9: error: distribution list dl@acme.example must stay at View Only, but in globex it gets InsightIDR "
        "feature InsightIDR Core at View and Change from role InsightIDR Analyst via group Analysts "
        "(hint: give distribution lists only roles that stay at View Only, such as InsightIDR Viewer)"),
    ]


def test_distribution_list_with_insightconnect_is_an_error_at_the_grant(tmp_path: Path) -> None:
    body = customer(products="[InsightConnect]") + """\
grants:
  - users: [dl@acme.example]
    customers: [globex]
    products: [InsightConnect]
    roles: [View Only]
"""
    assert _render(tmp_path, body) == [
        ("manifest.yaml:18:5: error: distribution list dl@acme.example must stay at View Only, but in globex it is assigned "
        "InsightConnect (direct), which gives full access whatever the role (hint: remove InsightConnect from the distribution "
        "list: its access cannot be limited by a role)")
    ]


def test_distribution_list_at_view_only_is_fine(tmp_path: Path) -> None:
    body = customer() + """\
grants:
  - users: [dl@acme.example]
    customers: [globex]
    products: [InsightIDR]
    roles: [InsightIDR Viewer, Log Search View Only]
"""
    assert _render(tmp_path, body) == []


def test_example_manifest_has_no_access_findings() -> None:
    from accessplan.loader import load_manifest
    from accessplan.resolve import resolve

    manifest = load_manifest(Path(__file__).resolve().parents[1] / "examples" / "mssp")
    assert access_diagnostics(manifest, resolve(manifest)) == []


def test_resources_built_by_the_caller_give_the_same_findings(tmp_path: Path) -> None:
    groups = "groups:\n  - name: Mixed\n    products: [InsightOps]\n    roles: [InsightOps Admin, InsightOps View Only]\n"
    org = build(tmp_path, customer(products="[InsightOps]", groups=groups))
    given = access_diagnostics(org.manifest, org.resolved, org.resources)
    assert len(given) == 1 and given == access_diagnostics(org.manifest, org.resolved)
