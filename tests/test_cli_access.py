"""The access commands end to end: explain, who-can, test, review."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest

from accessplan.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = "examples/mssp"


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # positions are printed relative to the working directory


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture()
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example manifest to edit, with the working directory beside it."""
    shutil.copytree(REPO / EXAMPLE, tmp_path / "mssp")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "mssp"


# --------------------------------------------------------------------------- explain

LIAM_GLOBEX = """\
liam.oconnor@bastionsec.example in globex (Globex Corporation)
  assignment: permanent, not a platform administrator (grant at examples/mssp/grants.yaml:42)
  groups: SOC Tier 1
  InsightIDR (via group SOC Tier 1)
    Collector: View Only — role Tier 1 Analyst via group SOC Tier 1
    Detection and Response Dashboards: View Only — role Tier 1 Analyst via group SOC Tier 1
    InsightIDR Core: View and Change — role Tier 1 Analyst via group SOC Tier 1
    Log Management and Querying: View Only — role Tier 1 Analyst via group SOC Tier 1
  logs: 2 of 5 visible
    dns-resolver: visible — selected via group SOC Tier 1
    edr-servers: hidden — not selected, directly or by any group
    edr-workstations: hidden — not selected, directly or by any group
    fw-edge-1: visible — log set Firewall selected via group SOC Tier 1 with fw-edge-2 restricted (so it covers the logs the set holds now, not logs added to it later)
    fw-edge-2: hidden — restricted via group SOC Tier 1 (the restriction wins over: log set Firewall selected via group SOC Tier 1 with fw-edge-2 restricted)
  conflicts: none
"""


def test_explain_text_names_the_source_of_every_part(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "explain", EXAMPLE, "liam.oconnor@bastionsec.example", "--customer", "globex") == (0, LIAM_GLOBEX, "")


def test_explain_platform_administrator_without_products(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "explain", EXAMPLE, "Maria.Santos@bastionsec.example", "--customer", "soylent") == (0, """\
maria.santos@bastionsec.example in soylent (Soylent Foods)
  assignment: permanent, platform administrator (grant at examples/mssp/grants.yaml:9; POC first user)
  groups: none
  products: none (platform administration gives no product access by itself)
  logs: none (no InsightIDR or InsightOps product)
  conflicts: none
""", "")


def test_explain_without_customer_covers_every_account(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", EXAMPLE, "tomas.novak@bastionsec.example")
    assert code == 0
    assert [line for line in out.splitlines() if " in " in line and not line.startswith(" ")] == [
        "tomas.novak@bastionsec.example in bastion-mssp (Bastion Managed Security, the partner account)",
        "tomas.novak@bastionsec.example in vandelay (Vandelay Industries)",
    ]
    assert "  assignment: until 2027-03-31T17:00:00Z, not a platform administrator (grant at examples/mssp/grants.yaml:55)" in out


def test_explain_lowered_level_and_conflict(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grants = example / "grants.yaml"
    grants.write_text(grants.read_text() + "  - users: [liam.oconnor@bastionsec.example]\n    customers: [globex]\n    roles: [InsightIDR Viewer]\n")
    code, out, _ = run(capsys, "explain", "mssp", "liam.oconnor@bastionsec.example", "--customer", "globex")
    assert code == 0
    assert (
        "    InsightIDR Core: View Only — role InsightIDR Viewer, direct; lowered from View and Change "
        "(role Tier 1 Analyst via group SOC Tier 1) by least privilege\n"
    ) in out
    assert out.endswith(
        "  conflicts: 1\n"
        "    privilege conflict for liam.oconnor@bastionsec.example in globex: InsightIDR feature InsightIDR Core is given "
        "at View Only by role InsightIDR Viewer, direct and at View and Change by role Tier 1 Analyst via group SOC Tier 1; "
        "least privilege makes it View Only\n"
    )


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", EXAMPLE, "daniel.mensah@bastionsec.example", "--customer", "umbrella", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["format_version"] == 1 and doc["user"] == "daniel.mensah@bastionsec.example"
    (account,) = doc["accounts"]
    assert account["assignment"] == {
        "expiry": "permanent",
        "origin": "grant at examples/mssp/grants.yaml:49; POC license product administrator",
    }
    assert account["features"] == [
        {"feature": "Product", "level": "Administer", "lowered_from": [], "product": "InsightConnect",
         "source": {"group": None, "kind": "product", "role": "InsightConnect"}}
    ]
    assert account["products"] == [{"from": [None], "full_access": True, "product": "InsightConnect", "roles_ignored": False}]
    assert account["logs"] is None


def test_explain_unknown_user_and_customer(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "explain", EXAMPLE, "liam.oconor@bastionsec.example") == (
        1, "", "error: unknown user 'liam.oconor@bastionsec.example' (hint: did you mean 'liam.oconnor@bastionsec.example'?)\n")
    assert run(capsys, "explain", EXAMPLE, "liam.oconnor@bastionsec.example", "--customer", "globx") == (
        1, "", "error: unknown customer 'globx' (hint: did you mean 'globex'?)\n")


def test_explain_user_without_access_to_the_customer(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "explain", EXAMPLE, "nadia.petrova@globex.example", "--customer", "umbrella") == (
        0, "nadia.petrova@globex.example has no access to umbrella (Umbrella Health)\n", "")


def test_explain_strips_terminal_escapes(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = example / "customers" / "globex.yaml"
    path.write_text(path.read_text().replace("name: SOC Tier 1", 'name: "SOC \\e[31mTier\\u202e 1"'))
    code, out, _ = run(capsys, "explain", "mssp", "liam.oconnor@bastionsec.example", "--customer", "globex")
    assert code == 0 and "  groups: SOC Tier 1\n" in out and "\x1b" not in out and "\u202e" not in out


# --------------------------------------------------------------------------- who-can


def test_who_can_feature_at_level(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("who-can", EXAMPLE, "--customer", "globex", "--product", "IDR", "--feature", "Collector", "--level", "View Only")
    assert run(capsys, *args) == (0, """\
Who can reach globex (Globex Corporation) with product InsightIDR, feature Collector, at View Only or above:
  kenji.watanabe@bastionsec.example (InsightIDR, platform administrator)
    [InsightIDR] Collector: Administer — role InsightIDR Admin, direct
  liam.oconnor@bastionsec.example (InsightIDR)
    [InsightIDR] Collector: View Only — role Tier 1 Analyst via group SOC Tier 1
  sofia.lindqvist@bastionsec.example (InsightIDR)
    [InsightIDR] Collector: View Only — role Tier 1 Analyst via group SOC Tier 1
3 users
""", "")


def test_who_can_log(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "who-can", EXAMPLE, "--customer", "umbrella", "--log", "aws-cloudtrail") == (0, """\
Who can reach umbrella (Umbrella Health) with log aws-cloudtrail:
  priya.raman@bastionsec.example (InsightIDR)
    aws-cloudtrail: visible — log set Cloud selected via group Cloud Threat Hunting
1 user
""", "")


def test_who_can_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "who-can", EXAMPLE, "--customer", "globex", "--level", "Administer", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["filters"] == {"feature": None, "level": "Administer", "log": None, "product": None}
    assert [u["user"] for u in doc["users"]] == ["kenji.watanabe@bastionsec.example"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--product", "InsightIDX"), "error: unknown product 'InsightIDX' (hint: did you mean 'InsightIDR'?)"),
        (("--product", "InsightIDR", "--feature", "Colector"), "error: unknown feature 'Colector' of InsightIDR (hint: did you mean 'Collector'?)"),
        (("--level", "Admin"), "error: unknown access level 'Admin' (hint: did you mean 'Administer'?)"),
        (("--log", "Firewall"), "error: 'Firewall' is a log set, not a log (hint: ask about one of its logs)"),
        (("--log", "fw-edge-9"), "error: unknown log 'fw-edge-9' in globex (hint: did you mean 'fw-edge-2'?)"),
    ],
)
def test_who_can_refuses_unknown_names(capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str) -> None:
    assert run(capsys, "who-can", EXAMPLE, "--customer", "globex", *args) == (1, "", message + "\n")


# --------------------------------------------------------------------------- test

EXAMPLE_RESULTS = """\
ok   examples/mssp/tests.yaml:9: liam.oconnor@bastionsec.example in globex
ok   examples/mssp/tests.yaml:29: priya.raman@bastionsec.example in umbrella
ok   examples/mssp/tests.yaml:48: soc-reports@bastionsec.example in globex
ok   examples/mssp/tests.yaml:62: daniel.mensah@bastionsec.example in umbrella
ok   examples/mssp/tests.yaml:70: kenji.watanabe@bastionsec.example in initech
ok   examples/mssp/tests.yaml:79: maria.santos@bastionsec.example in soylent
6 tests: 6 passed, 0 failed
"""


def test_example_tests_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "test", EXAMPLE) == (0, EXAMPLE_RESULTS, "")


def test_wrong_expectation_fails_with_its_line(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tests = example / "tests.yaml"
    tests.write_text(tests.read_text().replace("InsightIDR Core: View and Change\n          Collector: View Only", "InsightIDR Core: Administer\n          Collector: View Only"))
    code, out, _ = run(capsys, "test", "mssp")
    assert code == 1
    assert out.splitlines()[:2] == [
        "FAIL mssp/tests.yaml:9: liam.oconnor@bastionsec.example in globex",
        ("     mssp/tests.yaml:16:28: InsightIDR / InsightIDR Core: expected Administer, got View and Change "
        "(role Tier 1 Analyst via group SOC Tier 1)"),
    ]
    assert out.splitlines()[-1] == "6 tests: 5 passed, 1 failed"


def _one_test(example: Path, body: str) -> None:
    (example / "tests.yaml").write_text("tests:\n" + body)


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        ("  - {user: nobody@bastionsec.example, customer: globex, expect: {platform_admin: false}}\n",
         "mssp/tests.yaml:2:12: unknown user 'nobody@bastionsec.example' (hint: did you mean 'tomas.novak@bastionsec.example'?)"),
        ("  - {user: liam.oconnor@bastionsec.example, customer: globx, expect: {platform_admin: false}}\n",
         "mssp/tests.yaml:2:55: unknown customer 'globx' (hint: did you mean 'globex'?)"),
        ("  - {user: liam.oconnor@bastionsec.example, customer: globex, expect: {products: [InsightIDX]}}\n",
         "mssp/tests.yaml:2:83: unknown product 'InsightIDX' (hint: did you mean 'InsightIDR'?)"),
        ("  - {user: liam.oconnor@bastionsec.example, customer: globex, expect: {features: {InsightIDR: {Colector: none}}}}\n",
         "mssp/tests.yaml:2:106: unknown feature 'Colector' of InsightIDR (hint: did you mean 'Collector'?)"),
        ("  - {user: liam.oconnor@bastionsec.example, customer: globex, expect: {logs: {fw-edge-3: false}}}\n",
         "mssp/tests.yaml:2:90: unknown log 'fw-edge-3' in globex (hint: did you mean 'fw-edge-2'?)"),
        ("  - {user: liam.oconnor@bastionsec.example, customer: globex, expect: {logs: {Firewall: true}}}\n",
         "mssp/tests.yaml:2:89: 'Firewall' is a log set, not a log (hint: list the logs of the set one by one)"),
    ],
)
def test_unknown_names_fail_the_test(example: Path, capsys: pytest.CaptureFixture[str], body: str, failure: str) -> None:
    _one_test(example, body)
    code, out, _ = run(capsys, "test", "mssp")
    assert (code, out.splitlines()[1:]) == (1, [f"     {failure}", "1 test: 0 passed, 1 failed"])


def test_only_listed_keys_are_checked_and_no_access_is_testable(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _one_test(example, (
        "  - user: nadia.petrova@globex.example\n    customer: umbrella\n"
        "    expect: {platform_admin: false, products: [], features: {InsightIDR: {InsightIDR Core: none}}, logs: {vpn-gateway: false}}\n"
        "  - name: logs and admin flag\n    user: kenji.watanabe@bastionsec.example\n    customer: globex\n"
        "    expect: {platform_admin: false, logs: {fw-edge-1: true}}\n"
    ))
    code, out, _ = run(capsys, "test", "mssp")
    assert (code, out) == (1, """\
ok   mssp/tests.yaml:2: nadia.petrova@globex.example in umbrella
FAIL mssp/tests.yaml:5: logs and admin flag (kenji.watanabe@bastionsec.example in globex)
     mssp/tests.yaml:8:30: platform_admin: expected false, got true
     mssp/tests.yaml:8:55: log fw-edge-1: expected visible, got hidden (not selected, directly or by any group)
2 tests: 1 passed, 1 failed
""")


def test_junit_report(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _one_test(example, "  - {user: kenji.watanabe@bastionsec.example, customer: globex, expect: {platform_admin: false}}\n"
                       "  - {user: kenji.watanabe@bastionsec.example, customer: globex, expect: {platform_admin: true}}\n")
    code, _, _ = run(capsys, "test", "mssp", "--junit", "report.xml")
    suite = ElementTree.parse(example.parent / "report.xml").getroot().find("testsuite")
    assert code == 1 and suite is not None
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("accessplan test mssp", "2", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "mssp/tests.yaml:2: kenji.watanabe@bastionsec.example in globex",
        "mssp/tests.yaml:3: kenji.watanabe@bastionsec.example in globex",
    ]
    failure = cases[0].find("failure")
    assert failure is not None and failure.text == "mssp/tests.yaml:2:90: platform_admin: expected false, got true"
    assert cases[1].find("failure") is None


# --------------------------------------------------------------------------- review


def test_review_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--now", "2026-11-23T09:00:00Z", "review", EXAMPLE, "--format", "csv")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 21  # header + 20 assignments
    assert lines[0] == "customer,customer_name,user,platform_admin,products,roles,groups,expiry,granted_at,granted_by,change_ref,status"
    assert lines[2] == "globex,Globex Corporation,liam.oconnor@bastionsec.example,false,InsightIDR,Tier 1 Analyst (via group SOC Tier 1),SOC Tier 1,permanent,,,,"
    assert lines[-1] == "vandelay,Globex Corporation,tomas.novak@bastionsec.example,false,InsightAppSec,AppSec Triage,,2027-03-31T17:00:00Z,,,,".replace("Globex Corporation", "Vandelay Industries")


def test_review_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "review", EXAMPLE, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["format_version"] == 1 and len(doc["rows"]) == 20
    assert doc["rows"][10] == {
        "change_ref": None, "customer": "initech", "customer_name": "Initech", "expiry": "48h", "granted_at": None,
        "granted_by": None, "groups": [], "platform_admin": True, "products": ["InsightIDR"],
        "roles": ["InsightIDR Analyst", "Log Search View and Change"], "status": None, "user": "priya.raman@bastionsec.example",
    }


def test_review_csv_keeps_formulas_as_text(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = example / "customers" / "globex.yaml"
    path.write_text(path.read_text().replace("name: SOC Tier 1", 'name: "=HYPERLINK(1)"'))
    code, out, _ = run(capsys, "review", "mssp")
    assert code == 0 and ",'=HYPERLINK(1),permanent," in out
