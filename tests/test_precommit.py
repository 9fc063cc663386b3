"""The pre-commit hooks, run the way pre-commit runs them.

pre-commit itself is not installed here (it would fetch hook environments from
the network), so this test does what it does for a ``language: python`` hook
whose package is installed: take the hook's definition from
``.pre-commit-hooks.yaml``, apply the repository's configuration
(``examples/pre-commit/.pre-commit-config.yaml``: ``args``, ``files``), pick the
staged files that match ``files`` and ``types``, and run ``entry + args`` (plus
the file names unless ``pass_filenames: false``) in the repository. A hook
fails when it exits non-zero or changes a file, as in pre-commit.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from accessplan import yamlsafe

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # where the installed `accessplan` console script lives


def load(path: Path) -> Any:
    return yamlsafe.load(path.read_text(encoding="utf-8"))[0]


HOOKS = {hook["id"]: hook for hook in load(REPO / ".pre-commit-hooks.yaml")}
CONFIG = load(REPO / "examples" / "pre-commit" / ".pre-commit-config.yaml")


def test_the_hooks_are_defined_as_pre_commit_expects() -> None:
    assert sorted(HOOKS) == ["accessplan-fmt", "accessplan-fmt-check", "accessplan-test", "accessplan-validate"]
    allowed = {"id", "name", "description", "entry", "language", "types", "pass_filenames", "require_serial", "files", "args"}
    for hook in HOOKS.values():
        assert set(hook) <= allowed and {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python" and hook["types"] == ["yaml"]
        assert shlex.split(hook["entry"])[0] == "accessplan"
    assert HOOKS["accessplan-validate"]["pass_filenames"] is False and HOOKS["accessplan-test"]["pass_filenames"] is False


def test_the_example_configuration_uses_only_defined_hooks() -> None:
    (repo,) = CONFIG["repos"]
    assert [h["id"] for h in repo["hooks"]] == ["accessplan-fmt", "accessplan-validate", "accessplan-test"]
    assert all(h["files"] == "^manifest/" for h in repo["hooks"])
    whole_manifest = [h for h in repo["hooks"] if HOOKS[h["id"]].get("pass_filenames", True) is False]
    assert [h["args"] for h in whole_manifest] == [["manifest"], ["manifest"]]  # validate and test get the directory


@dataclass
class HookRun:
    id: str
    code: int
    output: str
    changed: list[str]

    @property
    def passed(self) -> bool:
        return self.code == 0 and not self.changed


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x.example", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x.example"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_hooks(repo: Path) -> list[HookRun]:
    """``pre-commit run``: each configured hook on the staged files it selects."""
    staged = [f for f in git(repo, "diff", "--cached", "--name-only").splitlines() if f]
    results = []
    for configured in CONFIG["repos"][0]["hooks"]:
        hook = {**HOOKS[configured["id"]], **configured}
        files = [f for f in staged if re.search(hook.get("files", ""), f) and f.endswith((".yaml", ".yml"))]
        if not files:
            continue
        command = shlex.split(hook["entry"]) + list(hook.get("args", [])) + (files if hook.get("pass_filenames", True) else [])
        before = {f: digest(repo / f) for f in staged}
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
        done = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, check=False)
        changed = [f for f in staged if digest(repo / f) != before[f]]
        results.append(HookRun(hook["id"], done.returncode, done.stdout + done.stderr, changed))
    return results


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A repository holding the example manifest in manifest/, staged for a commit."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    shutil.copytree(REPO / "examples" / "mssp", root / "manifest")
    shutil.copyfile(REPO / "examples" / "pre-commit" / ".pre-commit-config.yaml", root / ".pre-commit-config.yaml")
    git(root, "add", "-A")
    return root


def test_the_example_passes_every_hook(repo: Path) -> None:
    results = run_hooks(repo)
    assert [(r.id, r.passed) for r in results] == [("accessplan-fmt", True), ("accessplan-validate", True), ("accessplan-test", True)]
    validate = next(r for r in results if r.id == "accessplan-validate")
    assert validate.output == "manifest: valid, 0 errors, 0 warnings (5 customers, 8 partner users, 20 assignments)\n"


def test_fmt_rewrites_a_messy_file_and_the_commit_stops_until_it_is_staged(repo: Path) -> None:
    path = repo / "manifest" / "customers" / "vandelay.yaml"
    canonical = path.read_text(encoding="utf-8")
    header, _ = canonical.split("customers:\n")
    path.write_text(
        header + "customers:\n-   products: [InsightVM,InsightAppSec]\n    labels: {industry: manufacturing, tier: silver}\n"
        "    region: ca\n    name: Vandelay Industries\n    id: vandelay\n",
        encoding="utf-8",
    )
    git(repo, "add", "-A")
    fmt = run_hooks(repo)[0]
    assert (fmt.id, fmt.code, fmt.changed, fmt.output) == ("accessplan-fmt", 0, ["manifest/customers/vandelay.yaml"], "manifest/customers/vandelay.yaml\n")
    assert path.read_text(encoding="utf-8") == canonical.replace("{tier: silver, industry: manufacturing}", "{industry: manufacturing, tier: silver}")
    git(repo, "add", "-A")
    assert all(r.passed for r in run_hooks(repo))


def test_validate_stops_a_commit_with_a_dangling_reference(repo: Path) -> None:
    path = repo / "manifest" / "grants.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("customers: [vandelay]", "customers: [vandelai]"), encoding="utf-8")
    git(repo, "add", "-A")
    validate = next(r for r in run_hooks(repo) if r.id == "accessplan-validate")
    assert (validate.code, validate.output) == (
        1,
        "manifest/grants.yaml:56:17: error: unknown customer 'vandelai' (hint: did you mean 'vandelay'?)\n"
        "manifest: invalid, 1 error, 0 warnings (5 customers, 8 partner users, 19 assignments)\n",
    )


def test_the_access_tests_stop_a_commit_that_breaks_an_expectation(repo: Path) -> None:
    path = repo / "manifest" / "tests.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("      fw-edge-2: false\n", "      fw-edge-2: true\n"), encoding="utf-8")
    git(repo, "add", "-A")
    test = next(r for r in run_hooks(repo) if r.id == "accessplan-test")
    assert test.code == 1
    assert test.output.splitlines()[:2] + test.output.splitlines()[-1:] == [
        "FAIL manifest/tests.yaml:9: liam.oconnor@bastionsec.example in globex",
        "     manifest/tests.yaml:23:20: log fw-edge-2: expected visible, got hidden (restricted via group SOC Tier 1 "
        "(the restriction wins over: log set Firewall selected via group SOC Tier 1 with fw-edge-2 restricted))",
        "6 tests: 5 passed, 1 failed",
    ]


def test_no_hook_runs_when_no_manifest_file_is_staged(repo: Path) -> None:
    git(repo, "commit", "-q", "-m", "manifest")
    (repo / "notes.yaml").write_text("a: 1\n", encoding="utf-8")
    git(repo, "add", "notes.yaml")
    assert run_hooks(repo) == []
