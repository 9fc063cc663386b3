"""The Markdown plan: hostile names stay inert everywhere, and a large change stays under GitHub's limit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_impact import MEMBER, group, role
from test_plan import NOW, PARTNER, applied, assignment, customer

from accessplan.plan import make_plan
from accessplan.render.markdown import LIMIT, render_plan_markdown
from accessplan.render.mdescape import WORD_JOINER, md, size

HOSTILE = {
    "fence": "```js\nfetch('x')\n```",
    "tilde fence": "~~~\nx",
    "script": "<script>alert(1)</script>",
    "comment": "<!-- hidden -->",
    "mention": "@org/team",
    "reference": "#123",
    "ansi": "\x1b[31mred\x1b[0m\x1b]0;title\x07",
    "bidi": "evil\u202egnp.exe\u2066x\u2069",
    "link": "[click](javascript:alert(1))",
    "table": "a | b | c",
    "emphasis": "**bold** _it_ $x$ \\",
    "entity": "&lt;b&gt;",
}


@pytest.mark.parametrize(("raw", "escaped"), [
    ("```js\nfetch('x')\n```", "&#96;&#96;&#96;js fetch('x') &#96;&#96;&#96;"),
    ("<script>alert(1)</script>", "&#60;script>alert(1)&#60;/script>"),
    ("@org/team", f"&#64;{WORD_JOINER}org/team"),
    ("cc @bob and #12", f"cc &#64;{WORD_JOINER}bob and &#35;{WORD_JOINER}12"),
    ("bob@acme.example", "bob&#64;acme.example"),
    ("\x1b[31mred\x1b[0m", "red"),
    ("evil\u202egnp.exe", "evilgnp.exe"),
    ("[a](b) | *c* _d_ ~e~ $f$ \\g &h", "&#91;a&#93;(b) &#124; &#42;c&#42; &#95;d&#95; &#126;e&#126; &#36;f&#36; &#92;g &#38;h"),
    ("Tier 1 Analyst", "Tier 1 Analyst"),
])
def test_md_escapes_exactly(raw: str, escaped: str) -> None:
    assert md(raw) == escaped


def hostile_plan(h: str) -> Any:
    """A plan where ``h`` is a customer id, a customer's name, a label, a group, its description, a log and a person."""
    cid = "c" + h.replace("/", "-")
    user = h + "@acme"
    base = {**PARTNER}
    state = applied({**base, f"customer/{cid}": customer(cid, default_all_logs=False)})
    want = {
        **base,
        f"customer/{cid}": customer(cid, name=h, labels={h: h}, default_all_logs=False),
        f"log/{cid}/{h}": {"log_set": None},
        f"assignment/{cid}/{user}": assignment(expiry="24h", platform_admin=True, logs={"restrict": [], "select": [h]}),
        f"group/{cid}/{h}": {**group(user, roles=("InsightIDR Viewer",)), "description": h},
    }
    return make_plan(dict(sorted(want.items())), state, NOW, state_location="st-" + h, expiry_warning_hours=48)


_ALLOWED_TAGS = {"details", "/details", "summary", "/summary", "code", "/code", "br"}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_strings_are_inert_in_every_place(name: str) -> None:
    h = HOSTILE[name]
    plan = hostile_plan(h)
    assert plan.escalations and plan.impact and plan.warnings
    text = render_plan_markdown(plan)
    assert "```" not in text and "~~~" not in text
    assert {m.lower() for m in re.findall(r"<(/?[A-Za-z]+)", text)} <= _ALLOWED_TAGS
    assert "@" not in text and "<!--" not in text
    assert not re.search(r"(?<![A-Za-z0-9&])#(?!\d+;)", text.replace("####", "").replace("###", ""))
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
    cid, user, escaped = "c" + h.replace("/", "-"), h + "@acme", md(h)
    places = {
        "state location": f"State: st-{escaped} (lineage",
        "escalation row": f"| {md(user)} | gains platform administrator; new access to the customer | {md(cid)} | to accept |",
        "impact row": f"<br>+ logs: {escaped} | 1 | {md(cid)} (1) | yes |",
        "details summary": f"<details><summary>{md(cid)}: 4 changes, 1 person affected</summary>",
        "details person": f"- **escalation** {md(user)}: + new access, 24h from apply; + platform administrator;",
        "change address": f"- **create** <code>group/{md(cid)}/{escaped}</code> (new)",
        "label field": f"  - labels.{escaped}: null -> {md(_json(h))}",
        "customer name": f"  - name: {md(_json(cid.title()))} -> {md(_json(h))}",
        "description": f"  - description: {md(_json(h))}",
        "log rule": f"  - logs: {{\"restrict\": &#91;&#93;, \"select\": &#91;{md(_json(h))}&#93;}}",
        "warning": f"- <code>assignment/{md(cid)}/{md(user)}</code>: access expires at 2026-11-24T09:00:00Z (in 24h)",
    }
    missing = [where for where, piece in places.items() if piece not in text]
    assert missing == []


def _json(value: str) -> str:
    import orjson

    return orjson.dumps(value).decode()


def test_a_change_touching_500_customers_stays_under_the_limit_with_summary_and_escalations_whole() -> None:
    analysts = [f"a{i:02d}@acme" for i in range(20)]

    def org(level: str) -> dict[str, Any]:
        out: dict[str, Any] = dict(PARTNER)
        for c in range(500):
            cid = f"customer-{c:03d}"
            members = sorted({analysts[c % 20], analysts[(c + 1) % 20], analysts[(c + 7) % 20]})
            out[f"customer/{cid}"] = customer(cid)
            out[f"role/{cid}/Tier 1"] = role(**{"InsightIDR Core": level, "Collector": level if level == "Administer" else "View Only"})
            out[f"group/{cid}/SOC"] = group(*members)
            out.update({f"assignment/{cid}/{m}": MEMBER for m in members})
        return dict(sorted(out.items()))

    plan = make_plan(org("Administer"), applied(org("View Only")), NOW, state_location="st")
    assert len(plan.escalations) == 1500 and len(plan.impact) == 1500
    text = render_plan_markdown(plan)
    assert size(text) <= LIMIT
    assert text.startswith(
        "### accessplan plan for partner acme\n\n**Plan: 0 to add, 500 to change, 0 to destroy, 0 deferred.**\n\n"
    )
    head = "#### Escalations: 1500 to accept with --allow-escalation, 0 deferred\n\n| Person | Escalation | Accounts | Status |\n| --- | --- | --- | --- |\n"
    rows = text.split(head, 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(rows) == 20
    listed = set()
    for row in rows:
        person, what, accounts, status = (cell.strip() for cell in row.strip("|").split("|"))
        assert (what, status) == ("gains Administer on InsightIDR (Collector, InsightIDR Core)", "to accept")
        listed.update((person.replace("&#64;", "@"), a) for a in accounts.split(", "))
    assert listed == {(e.user, e.customer) for e in plan.escalations}
    assert "| ~ InsightIDR/Collector: View Only -> Administer<br>~ InsightIDR/InsightIDR Core: View Only -> Administer | 1500 | customer-000 (3), " in text
    assert text.endswith(
        "> **Truncated:** the details of 428 of 500 accounts left out to keep this comment under 65,000 characters. "
        "The whole plan: `accessplan plan --format json`.\n"
    )


def test_escalations_too_many_to_list_are_counted_by_kind_and_none_is_left_unmentioned() -> None:
    want = {**PARTNER, "customer/globex": customer("globex")}
    raised = {**want, **{f"assignment/globex/person{i:04d}@acme": assignment(platform_admin=True) for i in range(200)}}
    text = render_plan_markdown(make_plan(dict(sorted(raised.items())), applied(want), NOW, state_location="st"), limit=8_000)
    assert size(text) <= 8_000
    assert text.startswith("### accessplan plan for partner acme\n\n**Plan: 200 to add, 0 to change, 0 to destroy, 0 deferred.**\n")
    assert text[text.index("#### Escalations"):] == (
        "#### Escalations: 400 to accept with --allow-escalation, 0 deferred\n"
        "\n"
        "Too many to list person by person in a comment: counted by what they give. Each one is in the JSON plan (`escalations`).\n"
        "\n"
        "| Escalation | People | Accounts | Status |\n"
        "| --- | --- | --- | --- |\n"
        "| gains platform administrator | 200 | 1 | to accept |\n"
        "| new access to the customer | 200 | 1 | to accept |\n"
        "\n"
        "#### Access impact\n"
        "\n"
        "| Change | People | Accounts | Escalation |\n"
        "| --- | --- | --- | --- |\n"
        "| + new access, permanent<br>+ platform administrator<br>+ products: InsightIDR<br>"
        "+ InsightIDR/Detection and Response Dashboards: View Only<br>+ InsightIDR/InsightIDR Core: View Only | 200 | globex (200) | yes |\n"
        "\n"
        "> **Truncated:** the person-by-person escalation table (200 rows, counted by kind above) and the details of 1 of 1 account "
        "left out to keep this comment under 8,000 characters. The whole plan: `accessplan plan --format json`.\n"
    )


def test_even_a_summary_longer_than_the_limit_is_cut_to_it() -> None:
    plan = make_plan(dict(PARTNER), None, NOW, state_location="x" * 9_000 + "\U0001F600" * 10)
    text = render_plan_markdown(plan, limit=8_000)
    assert size(text) <= 8_000
    assert text.endswith(
        "xxx\n\n> **Truncated:** everything after this point left out to keep this comment under 8,000 characters. "
        "The whole plan: `accessplan plan --format json`.\n"
    )
