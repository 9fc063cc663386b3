"""The GitHub Actions workflow in ``examples/github/``, run step by step on this machine.

GitHub is not reachable from here, so the test plays its part: it reads the
workflow (strict YAML 1.2, as GitHub does: ``on`` is a key, not a boolean),
evaluates the few ``${{ }}`` expressions the workflow uses into each step's
environment, performs the ``uses:`` steps itself (checkout is a ``git checkout``
of the pull request's head in a temporary repository; upload-artifact copies the
files into an artifact store) and runs every ``run:`` step with bash, as a
runner would, except ``pip install`` (the accessplan under test is on PATH).
``gh`` is a stand-in that keeps comments and artifacts in a JSON file, so the
comment step's "update my earlier comment" logic and the apply job's download
are exercised for real.

The story: a pull request bootstraps the state; customers approve; two pull
requests are planned against the same state; the first merge applies, the
second is refused as stale; its fresh plan is made just before an expiry and
merged just after it, and is refused too; planned once more, it applies. Each
refusal tells that a fresh plan must be reviewed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from accessplan import yamlsafe

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "examples" / "github" / "accessplan.yml"
GUIDE = REPO / "examples" / "github" / "README.md"
BIN = Path(sys.executable).parent
T0 = "2026-11-23T09:00:00Z"
MARKER = "<!-- accessplan-plan -->"

FAKE_GH = r'''#!/usr/bin/env python3
"""A stand-in for the GitHub CLI: comments and workflow-run artifacts in a JSON file."""
import json, os, shutil, sys
state_file = os.environ["FAKE_GH_STATE"]
state = json.load(open(state_file))
args = sys.argv[1:]

def opt(name, default=None):
    return args[args.index(name) + 1] if name in args else default

def save():
    json.dump(state, open(state_file, "w"), indent=1)

if args[0] == "api":
    method = opt("--method", "GET")
    path = next(a for a in args[1:] if a.startswith("repos/"))
    parts = path.split("/")
    if method == "GET":  # repos/R/O/issues/N/comments, two comments per page
        mine = [c for c in state["comments"] if c["issue"] == int(parts[4])]
        pages = [mine[i:i + 2] for i in range(0, len(mine), 2)] or [[]]
        sys.stdout.write("".join(json.dumps(p) for p in pages))
        sys.exit(0)
    body = open(opt("-F").split("=@", 1)[1]).read()
    if method == "PATCH":  # repos/R/O/issues/comments/ID
        comment = next(c for c in state["comments"] if c["id"] == int(parts[5]))
        comment["body"] = body
        comment["edits"] += 1
    else:  # POST repos/R/O/issues/N/comments
        state["comments"].append({"id": 1000 + len(state["comments"]), "issue": int(parts[4]), "body": body,
                                  "user": {"login": "github-actions[bot]"}, "edits": 0})
    save()
    print("{}")
elif args[:2] == ["run", "list"]:
    run = state["artifacts"].get("accessplan-plan-" + opt("--commit"))
    print(run["run_id"] if run else "")
elif args[:2] == ["run", "download"]:
    name = opt("--name")
    run = state["artifacts"].get(name)
    if run is None or run["run_id"] != args[2]:
        print("no artifact matches " + name, file=sys.stderr)
        sys.exit(1)
    for f in os.listdir(run["dir"]):
        shutil.copy(os.path.join(run["dir"], f), f)
elif args[:2] == ["pr", "comment"]:
    state["comments"].append({"id": 1000 + len(state["comments"]), "issue": int(args[2]), "body": open(opt("--body-file")).read(),
                              "user": {"login": "github-actions[bot]"}, "edits": 0})
    save()
else:
    print("fake gh: unsupported " + " ".join(args), file=sys.stderr)
    sys.exit(2)
'''


def load_workflow() -> dict[str, Any]:
    data = yamlsafe.load(WORKFLOW.read_text(encoding="utf-8"))[0]
    assert isinstance(data, dict)
    return data


def run_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if "run" in s]


def documented_commands() -> set[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return {" ".join(line.split()) for block in re.findall(r"```sh\n(.*?)```", text, re.S) for line in block.splitlines() if line.strip()}


def accessplan_commands(script: str) -> list[str]:
    """The accessplan command lines of a step's script, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", script)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("accessplan "):
            out.append(" ".join(line.split(">", 1)[0].split()) if " 2>" in line or "> accessplan-apply" in line else " ".join(line.split()))
    return out


def test_the_workflow_is_valid_yaml_with_the_two_jobs() -> None:
    wf = load_workflow()
    assert wf["on"]["pull_request"] == {
        "types": ["opened", "synchronize", "reopened", "closed"],
        "branches": ["main"],
        "paths": ["manifest/**", ".github/workflows/accessplan.yml"],
    }
    assert wf["jobs"]["plan"]["if"] == "github.event.action != 'closed'"
    assert wf["jobs"]["apply"]["if"] == "github.event.action == 'closed' && github.event.pull_request.merged"
    assert "concurrency" not in wf["jobs"]["apply"]  # a group would cancel pending applies (README)
    for job in wf["jobs"].values():
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step)
            assert "${{" not in step.get("run", ""), step  # inputs come through env, never into the script
    uses = [s["uses"] for job in wf["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses == ["actions/checkout@v4", "actions/setup-python@v5", "actions/upload-artifact@v4", "actions/setup-python@v5"]


def test_every_accessplan_command_of_the_workflow_is_documented() -> None:
    documented = documented_commands()
    commands = [c for job in load_workflow()["jobs"].values() for s in run_steps(job) for c in accessplan_commands(s["run"])]
    assert commands == [
        'accessplan fmt --check --diff "$ACCESSPLAN_MANIFEST"',
        'accessplan validate --format github "$ACCESSPLAN_MANIFEST"',
        'accessplan test "$ACCESSPLAN_MANIFEST" --junit accessplan-tests.xml',
        'accessplan plan "$ACCESSPLAN_MANIFEST" --format markdown --out "accessplan-$HEAD_SHA.plan" > accessplan-plan.md',
        'accessplan report "$ACCESSPLAN_MANIFEST" --plan "accessplan-$HEAD_SHA.plan" --out accessplan-report.html',
        'accessplan apply "accessplan-$HEAD_SHA.plan" --lock-timeout 600 --change-ref "$MERGE_SHA" "${flags[@]}"',
    ]
    assert [c for c in commands if c not in documented] == []


# --- playing GitHub ---------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@x.example", "GIT_COMMITTER_NAME": "dev",
           "GIT_COMMITTER_EMAIL": "dev@x.example"}  # fmt: skip
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


@dataclass
class PullRequest:
    number: int
    branch: str
    labels: list[str] = field(default_factory=list)
    head: str = ""
    merge: str = ""


@dataclass
class JobResult:
    ok: bool
    log: str
    steps: list[tuple[str, str]]  # (step name, outcome)


class GitHub:
    """A repository, its state, its comments and artifacts, and the workflow's two jobs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.repo = root / "repo"
        self.state = root / "state"
        self.store = root / "artifacts"
        self.gh_state = root / "gh.json"
        self.bin = root / "bin"
        for d in (self.repo, self.store, self.bin):
            d.mkdir()
        (self.bin / "gh").write_text(FAKE_GH.replace("/usr/bin/env python3", sys.executable, 1), encoding="utf-8")
        (self.bin / "gh").chmod(0o755)
        # Someone quoted an old plan by hand: not the workflow's comment, never to be edited.
        human = {"id": 1, "issue": 2, "body": f"{MARKER}\nmy notes", "user": {"login": "reviewer"}, "edits": 0}
        self.gh_state.write_text(json.dumps({"comments": [human], "artifacts": {}}), encoding="utf-8")
        self.workflow = load_workflow()
        git(self.repo, "init", "-q", "-b", "main")
        (self.repo / "README.md").write_text("access for Bastion\n", encoding="utf-8")
        (self.repo / ".github" / "workflows").mkdir(parents=True)
        shutil.copyfile(WORKFLOW, self.repo / ".github" / "workflows" / "accessplan.yml")
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", "start")
        self.runs = 0

    def gh(self) -> dict[str, Any]:
        return dict(json.loads(self.gh_state.read_text(encoding="utf-8")))

    def comments(self, pr: PullRequest) -> list[dict[str, Any]]:
        return [c for c in self.gh()["comments"] if c["issue"] == pr.number]

    def push(self, pr: PullRequest, change: Any, message: str) -> None:
        """A commit on the pull request's branch (created from main when new)."""
        branches = git(self.repo, "branch", "--list", pr.branch)
        git(self.repo, "checkout", "-q", pr.branch if branches else "-b", *([] if branches else [pr.branch]), *([] if branches else ["main"]))
        change(self.repo)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "--allow-empty", "-m", message)
        pr.head = git(self.repo, "rev-parse", "HEAD")
        git(self.repo, "checkout", "-q", "main")

    def merge(self, pr: PullRequest) -> None:
        git(self.repo, "merge", "-q", "--no-ff", "-m", f"Merge #{pr.number}", pr.branch)
        pr.merge = git(self.repo, "rev-parse", "HEAD")

    def context(self, pr: PullRequest) -> dict[str, str]:
        return {
            "secrets.ACCESSPLAN_STATE": str(self.state),
            "github.event.pull_request.head.sha": pr.head,
            "github.event.pull_request.number": str(pr.number),
            "github.token": "t0ken",
            "github.event.pull_request.merge_commit_sha": pr.merge,
            "join(github.event.pull_request.labels.*.name, ',')": ",".join(pr.labels),
            "vars.ACCESSPLAN_ACTOR": "",
        }

    def expand(self, value: Any, ctx: dict[str, str]) -> str:
        def one(match: re.Match[str]) -> str:
            expression = match.group(1).strip()
            assert expression in ctx, f"the test does not know the expression {expression!r}"
            return ctx[expression]

        return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))

    def run_job(self, name: str, pr: PullRequest, now: str) -> JobResult:
        """One job of the workflow for ``pr``, with the clock at ``now``; in a fresh workspace."""
        self.runs += 1
        job = self.workflow["jobs"][name]
        work = self.root / f"run{self.runs}-{name}"
        work.mkdir()
        ctx = self.context(pr)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCESSPLAN_", "GITHUB_"))}
        env.update({k: self.expand(v, ctx) for k, v in {**self.workflow["env"], **job.get("env", {})}.items()})
        env.update(
            PATH=f"{self.bin}{os.pathsep}{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            FAKE_GH_STATE=str(self.gh_state), GITHUB_REPOSITORY="bastion/access", GITHUB_WORKFLOW=self.workflow["name"],
            GITHUB_STEP_SUMMARY=str(work / "summary.md"), ACCESSPLAN_NOW=now, NO_COLOR="1",
        )  # fmt: skip
        failed, log, outcomes = False, [], []
        for step in job["steps"]:
            title = step.get("name") or step.get("uses")
            if failed and "always()" not in step.get("if", ""):
                outcomes.append((title, "skipped"))
                continue
            if "uses" in step:
                self.use(step, work, ctx)
                outcomes.append((title, "success"))
                continue
            if step["run"].lstrip().startswith("python -m pip install"):
                outcomes.append((title, "provided"))  # the accessplan under test is on PATH
                continue
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=work, env=env,
                                  capture_output=True, text=True, check=False)  # fmt: skip
            log.append(f"## {title}\n{done.stdout}{done.stderr}")
            outcomes.append((title, "success" if done.returncode == 0 else "failure"))
            failed = failed or done.returncode != 0
        return JobResult(not failed, "\n".join(log), outcomes)

    def use(self, step: dict[str, Any], work: Path, ctx: dict[str, str]) -> None:
        action = step["uses"].split("@")[0]
        if action == "actions/checkout":
            ref = self.expand(step["with"]["ref"], ctx)
            subprocess.run(["git", "clone", "-q", str(self.repo), str(work / "src")], check=True)
            subprocess.run(["git", "-C", str(work / "src"), "checkout", "-q", ref], check=True)
            for item in (work / "src").iterdir():
                if item.name != ".git":
                    shutil.move(str(item), work / item.name)
        elif action == "actions/upload-artifact":
            name = self.expand(step["with"]["name"], ctx)
            target = self.store / name
            target.mkdir()
            for line in self.expand(step["with"]["path"], ctx).split():
                if (work / line).exists():
                    shutil.copy(work / line, target / line)
            gh = self.gh()
            gh["artifacts"][name] = {"run_id": str(self.runs), "dir": str(target)}
            self.gh_state.write_text(json.dumps(gh), encoding="utf-8")
        else:
            assert action == "actions/setup-python", action


def add_grant(text: str) -> Any:
    def change(repo: Path) -> None:
        path = repo / "manifest" / "grants.yaml"
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    return change


def new_file(name: str, text: str) -> Any:
    def change(repo: Path) -> None:
        (repo / name).write_text(text, encoding="utf-8")

    return change


def approve(state: Path, *customers: str) -> None:
    """The customers' administrators approve the partner (a customer-side action: the serial moves)."""
    path = state / "state.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for cid in customers:
        doc["resources"][f"customer/{cid}"]["status"]["relationship"] = "approved"
    doc["serial"] += 1
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def serial(state: Path) -> int:
    return int(json.loads((state / "state.json").read_text(encoding="utf-8"))["serial"])


STALE = (
    "::error title=accessplan::The plan reviewed on #{n} is stale: the state moved on, or an access expiry fell between "
    "plan and apply. Nothing was applied: a fresh plan must be reviewed (open a pull request, an empty commit is enough, "
    "and merge it once its plan is approved).\n"
)


@pytest.fixture()
def github(tmp_path: Path) -> GitHub:
    return GitHub(tmp_path)


def test_pull_requests_are_planned_commented_and_applied_once_reviewed(github: GitHub) -> None:
    # 1. The manifest arrives through a pull request; its plan creates everything.
    boot = PullRequest(1, "bootstrap", labels=["accessplan/allow-escalation"])
    github.push(boot, lambda repo: shutil.copytree(REPO / "examples" / "mssp", repo / "manifest"), "Add the manifest")
    planned = github.run_job("plan", boot, T0)
    assert planned.ok, planned.log
    assert [o for _, o in planned.steps] == ["success"] * 2 + ["provided"] + ["success"] * 7
    (comment,) = github.comments(boot)
    assert comment["body"].startswith(f"{MARKER}\n### accessplan plan for partner bastion-mssp\n")
    assert "**Plan: " in comment["body"] and f"<sub>Plan for {boot.head}." in comment["body"]
    assert "::error" not in planned.log
    github.merge(boot)
    applied = github.run_job("apply", boot, T0)
    assert applied.ok, applied.log
    assert serial(github.state) == 1
    assert github.comments(boot)[-1]["body"].startswith(f"### accessplan: applied the plan for {boot.head}\n")

    # 2. The customers approve the partner (outside the workflow: the serial moves).
    approve(github.state, "globex", "initech", "umbrella", "vandelay")

    # 3. Two pull requests planned against the same state. The first is pushed twice:
    #    its comment is edited, not repeated, and a reviewer's own comment is left alone.
    tomas = PullRequest(2, "tomas-globex", labels=["accessplan/allow-escalation"])
    github.push(tomas, add_grant("  - users: [tomas.novak@bastionsec.example]\n    customers: [globex]\n"), "Tomas joins Globex")
    assert github.run_job("plan", tomas, "2026-11-23T10:00:00Z").ok
    first_head = tomas.head
    github.push(tomas, add_grant("    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n"), "read-only")
    assert github.run_job("plan", tomas, "2026-11-23T10:00:00Z").ok
    human, bot = github.comments(tomas)
    assert (human["body"], human["edits"]) == (f"{MARKER}\nmy notes", 0)
    assert bot["edits"] == 1 and f"<sub>Plan for {tomas.head}." in bot["body"] and first_head not in bot["body"]
    sofia = PullRequest(3, "sofia-umbrella")
    github.push(sofia, new_file("manifest/cover.yaml", "grants:\n  - users: [sofia.lindqvist@bastionsec.example]\n    customers: [umbrella]\n"), "Sofia covers Umbrella")
    assert github.run_job("plan", sofia, "2026-11-23T10:00:00Z").ok

    # 4. The first merge applies; the second plan is now stale and refused.
    github.merge(tomas)
    assert github.run_job("apply", tomas, "2026-11-23T10:30:00Z").ok
    before = serial(github.state)
    github.merge(sofia)
    refused = github.run_job("apply", sofia, "2026-11-23T10:40:00Z")
    assert not refused.ok
    assert STALE.format(n=3) in refused.log
    assert "error: the plan is stale: it was made against state serial 2, the state is now at serial 3" in refused.log
    assert serial(github.state) == before
    assert refused.steps[-2:] == [("Apply the reviewed plan", "failure"), ("Report the result on the pull request", "success")]
    assert github.comments(sofia)[-1]["body"].startswith(f"### accessplan: the plan for {sofia.head} was not applied\n")

    # 5. As told, a fresh plan: an empty commit. It is made an hour before Priya's
    #    48 hours at Initech end (they started with the apply at 10:30) and merged an
    #    hour after: refused again, because the plan does not know of that expiry.
    fresh = PullRequest(4, "replan-sofia", labels=["accessplan/allow-escalation"])  # new access for Sofia
    github.push(fresh, lambda repo: None, "Plan #3 again")
    assert github.run_job("plan", fresh, "2026-11-25T09:30:00Z").ok
    github.merge(fresh)
    refused = github.run_job("apply", fresh, "2026-11-25T11:30:00Z")
    assert not refused.ok
    assert STALE.format(n=4) in refused.log
    assert (
        "error: the plan is out of date: assignment/initech/priya.raman@bastionsec.example expired at 2026-11-25T10:30:00Z, "
        "after the plan was made at 2026-11-25T09:30:00Z" in refused.log
    )

    # 6. Planned again after the expiry, it removes what expired and applies.
    again = PullRequest(5, "replan-sofia-again", labels=["accessplan/allow-escalation"])
    github.push(again, lambda repo: None, "Plan #3 once more")
    assert github.run_job("plan", again, "2026-11-25T11:45:00Z").ok
    github.merge(again)
    assert github.run_job("apply", again, "2026-11-25T12:00:00Z").ok
    assert serial(github.state) == before + 1


def test_a_failed_check_replaces_the_plan_comment(github: GitHub) -> None:
    pr = PullRequest(1, "broken")

    def broken(repo: Path) -> None:
        shutil.copytree(REPO / "examples" / "mssp", repo / "manifest")
        path = repo / "manifest" / "grants.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("customers: [vandelay]", "customers: [vandelai]"), encoding="utf-8")

    github.push(pr, broken, "typo")
    result = github.run_job("plan", pr, T0)
    assert not result.ok
    assert (
        "::error file=manifest/grants.yaml,line=56,col=17,title=accessplan::unknown customer 'vandelai' (hint: did you mean 'vandelay'?)"
        in result.log
    )
    assert [o for _, o in result.steps][-6:] == ["failure", "skipped", "skipped", "skipped", "skipped", "success"]
    (comment,) = github.comments(pr)
    assert comment["body"] == (
        f"{MARKER}\n### accessplan: no plan for {pr.head}\n\n"
        "The layout check, validation, the access tests or the plan failed: see this commit's checks.\n"
    )


def test_a_merge_without_a_saved_plan_applies_nothing(github: GitHub) -> None:
    pr = PullRequest(1, "unplanned")
    github.push(pr, lambda repo: shutil.copytree(REPO / "examples" / "mssp", repo / "manifest"), "Add the manifest")
    github.merge(pr)
    result = github.run_job("apply", pr, T0)
    assert not result.ok
    assert (
        f"::error title=accessplan::No plan was saved for {pr.head}, the head of #1. Nothing was applied: a fresh plan must be "
        "reviewed (open a pull request, an empty commit is enough, and merge it once its plan is approved).\n" in result.log
    )
    assert not (github.state / "state.json").exists()


def test_the_plan_comment_of_a_change_touching_500_customers_fits_in_a_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Markdown the comment step posts: under 65,000 characters, summary and escalations whole."""
    from accessplan.cli import main
    from accessplan.desired import desired_resources
    from accessplan.loader import load_manifest
    from accessplan.resolve import resolve
    from accessplan.state import State

    org = tmp_path / "org"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), "--size", "medium", "--out", str(org)], check=True, capture_output=True)
    manifest = load_manifest(org)
    desired = desired_resources(manifest, resolve(manifest))
    # A state in which every customer exists and has approved the partner, and nothing else: the
    # plan gives every analyst their access in all 500 customers at once.
    state = State.new(manifest.partner.id)
    state.resources = {
        addr: {"spec": spec, "status": {"relationship": "approved", "protect": spec["protect"]}}
        for addr, spec in desired.items()
        if addr.startswith("customer/")
    }
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "state.json").write_bytes(state.to_bytes())
    capsys.readouterr()
    code = main(["--now", T0, "plan", str(org), "--state", str(tmp_path / "state"), "--format", "markdown", "--out", str(tmp_path / "big.plan")])
    comment = capsys.readouterr().out
    assert code == 0
    plan = json.loads((tmp_path / "big.plan").read_text(encoding="utf-8"))
    touched = {c["address"].split("/")[1] for c in plan["changes"] if c["address"].startswith(("assignment/", "group/"))}
    assert len(touched) == 500
    assert len(comment) < 65_000 and len(comment.encode("utf-16-le")) // 2 < 65_000
    summary = plan["summary"]
    assert comment.startswith(
        "### accessplan plan for partner northwind-mssp\n\n"
        f"**Plan: {summary['add']} to add, {summary['change']} to change, {summary['destroy']} to destroy, {summary['defer']} deferred.**\n"
    )
    live = [e for e in plan["escalations"] if not e["deferred"]]
    assert f"#### Escalations: {len(live)} to accept with --allow-escalation, 0 deferred\n" in comment
    kinds = {e["kind"] for e in live}
    assert len(kinds) >= 2
    escalations = comment.split("#### Escalations:", 1)[1].split("####", 1)[0]
    assert escalations.count("| to accept |") >= len(kinds)  # every kind of escalation is in the table
