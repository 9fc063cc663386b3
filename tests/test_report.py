"""``accessplan report``: the data behind the page, the page's safety, and the command."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from accessplan.cli import main
from accessplan.desired import desired_resources
from accessplan.loader import load_manifest
from accessplan.report import ReportInput, build_report, describe, plan_impact
from accessplan.report_html import csp_source, render_report_html
from accessplan.resolve import resolve

REPO = Path(__file__).resolve().parents[1]
T0 = "2026-11-23T09:00:00Z"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # an hour after the applies


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture()
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "examples" / "mssp", tmp_path / "mssp")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "mssp"


def set_relationships(state_dir: Path, **relationships: str) -> None:
    """What the customers' administrators did (approve, revoke), written into state."""
    path = state_dir / "state.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for cid, relationship in relationships.items():
        doc["resources"][f"customer/{cid}"]["status"]["relationship"] = relationship
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@pytest.fixture()
def applied(example: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The example applied at T0: Globex, Umbrella and Initech approved, Vandelay revoked."""
    state = example.parent / "state"
    assert run(capsys, "--now", T0, "apply", "mssp", "--state", "state", "--auto-approve", "--allow-escalation")[0] == 0
    set_relationships(state, globex="approved", umbrella="approved", initech="approved", vandelay="revoked")
    assert run(capsys, "--now", T0, "apply", "mssp", "--state", "state", "--auto-approve", "--allow-escalation")[0] == 0
    return state


def report_for(root: Path, now: datetime, state: Any = None, plan: dict[str, Any] | None = None) -> dict[str, Any]:
    manifest = load_manifest(root)
    desired = desired_resources(manifest, resolve(manifest, now), now)
    return build_report(ReportInput(manifest, desired, state, "state", now, plan, "change.plan" if plan else ""))


def cells(report: dict[str, Any]) -> dict[tuple[str, str], list[Any]]:
    m = report["matrix"]
    flat = m["cells"]
    return {
        (m["users"][flat[k]][0], m["customers"][flat[k + 1]][0]): m["profiles"][flat[k + 2]] + [flat[k + 3]]
        for k in range(0, len(flat), 4)
    }


def test_the_matrix_holds_every_assignment_of_the_example(example: Path) -> None:
    manifest = load_manifest(example)
    expected = {(user, cid) for cid, user in resolve(manifest).assignments}
    report = report_for(example, NOW)
    assert set(cells(report)) == expected
    assert report["counts"] == {
        "customers": 5, "users": 8, "assignments": 20, "admins": 9, "conflicts": 0, "expiring": 0,
        "approved": 0, "pending": 0, "revoked": 0, "new": 0,
    }  # fmt: skip
    # admin, short codes, expiry, flags, products, roles, groups, state; impact index
    assert cells(report)[("liam.oconnor@bastionsec.example", "globex")] == [
        0, "IDR", "", 0, "InsightIDR", "Tier 1 Analyst (via SOC Tier 1)", "SOC Tier 1", "", -1,
    ]  # fmt: skip
    assert cells(report)[("priya.raman@bastionsec.example", "initech")][:4] == [1, "IDR", "48h from the apply that grants it", 1]
    assert cells(report)[("tomas.novak@bastionsec.example", "vandelay")][:4] == [0, "AS", "until 2027-03-31T17:00:00Z", 1]


def test_with_state_the_report_shows_relationships_and_real_expiry_times(applied: Path, example: Path) -> None:
    from accessplan.state import open_backend

    state = open_backend(str(applied)).read()
    report = report_for(example, NOW, state)
    assert report["lifecycle"] == [
        {"id": "vandelay", "name": "Vandelay Industries", "status": "revoked", "note": "the customer revoked the partner: access there is deferred"},
    ]
    assert report["expiring"] == [
        {"customer": "initech", "name": "Initech", "user": "priya.raman@bastionsec.example", "what": "assignment", "ends": "2026-11-25T09:00:00Z", "left": "47h"},
    ]
    priya = cells(report)[("priya.raman@bastionsec.example", "initech")]
    assert priya[:4] == [1, "IDR", "until 2026-11-25T09:00:00Z", 1 | 2] and priya[7] == "live"
    tomas = cells(report)[("tomas.novak@bastionsec.example", "vandelay")]
    assert tomas[3] == 1 | 8 and tomas[7] == "not applied yet"  # time-bound, not live: Vandelay revoked
    assert report["state"] == {"location": "state", "exists": True, "serial": state.serial, "lineage": state.lineage}


def test_access_that_has_ended_is_listed_until_an_apply_removes_it(applied: Path, example: Path) -> None:
    from accessplan.state import open_backend

    report = report_for(example, datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc), open_backend(str(applied)).read())
    assert report["expiring"] == [
        {"customer": "initech", "name": "Initech", "user": "priya.raman@bastionsec.example",
         "what": "assignment (ended: the next apply removes it)", "ends": "2026-11-25T09:00:00Z", "left": "ended"},
    ]  # fmt: skip
    assert report["counts"]["expiring"] == 0
    assert cells(report)[("priya.raman@bastionsec.example", "initech")][3] == 1 | 4  # time-bound, expired


def test_a_poc_license_ending_within_the_window_is_listed(example: Path) -> None:
    report = report_for(example, datetime(2027, 1, 28, 12, 0, tzinfo=timezone.utc))
    assert [e for e in report["expiring"] if e["what"].startswith("POC")] == [
        {"customer": "umbrella", "name": "Umbrella Health", "user": "daniel.mensah@bastionsec.example",
         "what": "POC license for InsightConnect", "ends": "2027-02-01T00:00:00Z", "left": "84h"},
    ]  # fmt: skip


def test_a_saved_plan_is_highlighted_in_the_matrix(applied: Path, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grants = example / "grants.yaml"
    grants.write_text(
        grants.read_text(encoding="utf-8")
        + "  - users: [tomas.novak@bastionsec.example]\n    customers: [globex]\n    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n",
        encoding="utf-8",
    )
    now = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert run(capsys, "--now", now, "plan", "mssp", "--state", "state", "--out", "change.plan")[0] == 0
    plan = json.loads((example.parent / "change.plan").read_text(encoding="utf-8"))
    from accessplan.state import open_backend

    report = report_for(example, NOW, open_backend(str(applied)).read(), plan)
    impact = {(r["customer"], r["user"]): r for r in report["plan"]["impact"]}
    tomas = impact[("globex", "tomas.novak@bastionsec.example")]
    assert (tomas["access"], tomas["escalation"], tomas["deferred"]) == ("new", True, False)
    assert tomas["gained"].startswith("products: InsightIDR; InsightIDR ")
    cell = cells(report)[("tomas.novak@bastionsec.example", "globex")]
    assert report["matrix"]["impacts"][cell[8]][:2] == ["new", 1]
    assert report["plan"]["stale"] == ""


def test_impact_of_an_older_plan_comes_from_its_changes_and_escalations() -> None:
    plan = {
        "changes": [
            {"address": "assignment/globex/a@x.example", "action": "create", "reason": "new"},
            {"address": "assignment/initech/b@x.example", "action": "delete", "reason": "removed_from_manifest"},
            {"address": "group/globex/SOC", "action": "update", "reason": "changed"},
        ],
        "escalations": [{"customer": "globex", "user": "a@x.example", "detail": "gains platform administrator"}],
    }
    assert plan_impact(plan) == {
        ("globex", "a@x.example"): {"access": "new", "gained": "the assignment (new)", "lost": "", "escalation": True,
                                    "escalations": ["gains platform administrator"], "deferred": False},
        ("initech", "b@x.example"): {"access": "removed", "gained": "", "lost": "the assignment (removed_from_manifest)",
                                     "escalation": False, "escalations": [], "deferred": False},
    }  # fmt: skip


def test_gained_and_lost_access_read_as_words() -> None:
    assert describe({"expiry": "72h", "features": {"InsightIDR": {"Collector": "Administer"}}, "platform_admin": True, "products": ["InsightIDR"]}) == (
        "platform admin; products: InsightIDR; InsightIDR Collector: Administer; expiry: 72h"
    )


# --- the page -------------------------------------------------------------------------------


def test_the_page_allows_only_its_own_style_and_script(example: Path) -> None:
    html = render_report_html(report_for(example, NOW))
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    script = re.search(r"<script>(.*?)</script>", html, re.S)
    assert style and script
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    assert csp is not None
    assert csp.group(1) == (
        f"default-src &#39;none&#39;; style-src {csp_source(style.group(1))}; script-src {csp_source(script.group(1))}; "
        "img-src data:; base-uri &#39;none&#39;; form-action &#39;none&#39;"
    ).replace("'", "&#39;")
    assert re.findall(r"""(?:src|href)\s*=\s*["']?(?!#)[^"'\s>]+""", html) == []  # nothing to fetch, links stay in the page
    assert html.count("<script") == 2  # the code, and the data block that is never executed


def test_hostile_names_are_escaped_everywhere(example: Path) -> None:
    hostile = '</script><script>alert(1)</script><img src=x onerror=alert(2)>\u202e'
    path = example / "customers" / "initech.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: Initech", f"name: {json.dumps(hostile)}"), encoding="utf-8")
    partner = example / "partner.yaml"
    partner.write_text(partner.read_text(encoding="utf-8").replace("name: Bastion Managed Security", f"name: {json.dumps(hostile)}"), encoding="utf-8")
    html = render_report_html(report_for(example, NOW))
    assert "alert(1)</script>" not in html and "<img src=x" not in html and "\u202e" not in html
    assert "<title>Access report: &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;</title>" in html
    assert '"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e' in html  # in the data block
    data = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', html, re.S)
    assert data is not None and json.loads(data.group(1))["customers"][1][1] == hostile.replace("\u202e", "")


# --- the command ----------------------------------------------------------------------------


def test_report_writes_one_file_and_says_what_it_holds(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--now", T0, "report", "mssp", "--state", "nostate", "--out", "access.html") == (
        0,
        "",
        "Wrote access.html: 8 partner users x 5 customers, 20 assignments, 0 conflicts, 0 expiring.\n",
    )
    html = (example.parent / "access.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "No state at nostate" in html


def test_an_invalid_manifest_gets_its_diagnostics(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = example / "grants.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("customers: [vandelay]", "customers: [vandelai]"), encoding="utf-8")
    code, out, err = run(capsys, "--now", T0, "report", "mssp", "--state", "nostate", "--out", "access.html")
    assert (code, out) == (1, "")
    assert err == "mssp/grants.yaml:56:17: error: unknown customer 'vandelai' (hint: did you mean 'vandelay'?)\n"
    assert not (example.parent / "access.html").exists()


def test_an_altered_plan_is_refused(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--now", T0, "plan", "mssp", "--state", "nostate", "--out", "change.plan")[0] == 0
    plan = example.parent / "change.plan"
    plan.write_text(plan.read_text(encoding="utf-8").replace('"add": ', '"add": 1'), encoding="utf-8")
    assert run(capsys, "--now", T0, "report", "mssp", "--state", "nostate", "--plan", "change.plan", "--out", "r.html") == (
        1,
        "",
        "error: change.plan: the saved plan was altered after it was made (its content hash does not match) "
        "(hint: make a new plan with 'accessplan plan PATH --out FILE')\n",
    )


def test_a_plan_of_another_partner_is_refused(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--now", T0, "plan", "mssp", "--state", "nostate", "--out", "change.plan")[0] == 0
    partner = example / "partner.yaml"
    partner.write_text(partner.read_text(encoding="utf-8").replace("id: bastion-mssp", "id: other-mssp"), encoding="utf-8")
    assert run(capsys, "--now", T0, "report", "mssp", "--state", "nostate", "--plan", "change.plan", "--out", "r.html") == (
        1,
        "",
        "error: change.plan: the plan is for partner 'bastion-mssp', the manifest declares 'other-mssp' "
        "(hint: give the plan made from this manifest)\n",
    )


def test_privilege_conflicts_are_listed(example: Path) -> None:
    grants = example / "grants.yaml"
    grants.write_text(
        grants.read_text(encoding="utf-8")
        + "  - users: [liam.oconnor@bastionsec.example]\n    customers: [globex]\n    products: [InsightIDR]\n    roles: [InsightIDR Admin]\n",
        encoding="utf-8",
    )
    report = report_for(example, NOW)
    core = [c for c in report["conflicts"] if c["feature"] == "InsightIDR Core"]
    assert [(c["account"], c["kind"], c["subject"], c["product"]) for c in core] == [("globex", "user", "liam.oconnor@bastionsec.example", "InsightIDR")]
    assert core[0]["text"] == (
        "privilege conflict for liam.oconnor@bastionsec.example in globex: InsightIDR feature InsightIDR Core is given "
        "at View and Change by role Tier 1 Analyst via group SOC Tier 1 and at Administer by role InsightIDR Admin, direct; "
        "least privilege makes it View and Change"
    )
    html = render_report_html(report)
    assert f"<td>{core[0]['text']}</td>" in html
    assert report["counts"]["conflicts"] == len(report["conflicts"]) >= 1
