"""The hostile inputs of SPEC section 2, each refused by ``accessplan validate`` in bounded time and memory.

Each attack is written to a scratch directory and validated by a whole
``accessplan`` process, as a pre-commit hook would run it; the wall time and
the process's own peak resident memory (``measure.py``) are recorded. An attack passes when the process exits 1 with the expected
one-line message, within :data:`MAX_SECONDS` and :data:`MAX_RSS_MB` (the whole
process, Python and pydantic included: about 40 MB before reading anything).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from measure import measured
from trial_common import Trial, accessplan_cmd

MAX_SECONDS = 2.0
MAX_RSS_MB = 150.0
MIB = 1024 * 1024


@dataclass(frozen=True)
class Attack:
    name: str
    make: Callable[[Path], Path]  # writes the input under a directory, returns the path to validate
    expect: str  # a message the output must contain


def _file(name: str, text: str | bytes) -> Callable[[Path], Path]:
    def make(where: Path) -> Path:
        path = where / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return path

    return make


def _sparse(name: str, size: int) -> Callable[[Path], Path]:
    def make(where: Path) -> Path:
        path = where / name
        with open(path, "wb") as fh:
            fh.write(b"version: 1\n")
            fh.truncate(size)  # takes no disk space; the size is what the limit looks at
        return path

    return make


def _empty_dir(where: Path) -> Path:
    path = where / "no-manifest"
    path.mkdir()
    (path / "README.txt").write_text("not a manifest\n")
    return path


def _laughs(levels: int, width: int) -> str:
    lines = ['lol0: &a0 ["lol"]'] + [f"lol{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


DEEP = "nesting deeper than 64 levels"
ALIASES = "aliases expand to more than 100,000 nodes"

ATTACKS: list[Attack] = [
    Attack("billion laughs (9 levels x 10)", _file("laughs.yaml", _laughs(9, 10)), ALIASES),
    Attack("alias fan-out (1,000-item anchor x 200 aliases)",
           _file("fanout.yaml", "a: &a [" + ", ".join(["x"] * 999) + "]\nb: [" + ", ".join(["*a"] * 200) + "]\n"), ALIASES),
    Attack("200,000 aliases to one scalar", _file("scalars.yaml", "a: &a x\nb: [" + ", ".join(["*a"] * 200_000) + "]\n"), ALIASES),
    Attack("nesting 65 levels (flow)", _file("deep65.yaml", "a: " + "[" * 64 + "]" * 64 + "\n"), DEEP),
    Attack("nesting 100,000 levels (flow)", _file("deep100k.yaml", "[" * 100_000 + "]" * 100_000 + "\n"), DEEP),
    Attack("nesting 1,000 levels (block)", _file("deepblock.yaml", "".join("  " * i + "k:\n" for i in range(1000)) + "  " * 1000 + "x\n"), DEEP),
    Attack("tag !!python/object/apply", _file("python.yaml", "version: !!python/object/apply:os.system ['echo owned']\n"),
           "tag '!!python/object/apply:os.system' is not allowed"),
    Attack("local tag !Foo", _file("local.yaml", "version: 1\npolicy: !Foo {}\n"), "tag '!Foo' is not allowed"),
    Attack("%YAML 1.1 directive", _file("yaml11.yaml", "%YAML 1.1\n---\nversion: 1\n"), "%YAML 1.1 is not supported"),
    Attack("duplicate key", _file("dup.yaml", "version: 1\nversion: 1\n"), "duplicate key 'version'"),
    Attack("yes as a boolean", _file("yes.yaml", "version: 1\npolicy: {forbid_permanent_platform_admin: yes}\n"),
           "expected true or false, got the string 'yes'"),
    Attack("on as a boolean", _file("on.yaml", "version: 1\npolicy: {forbid_permanent_platform_admin: on}\n"),
           "expected true or false, got the string 'on'"),
    Attack('"true" as a boolean', _file("quoted.yaml", 'version: 1\npolicy: {forbid_permanent_platform_admin: "true"}\n'),
           "expected true or false, got the string 'true'"),
    Attack("invalid date 2026-02-30", _file("date.yaml", "customers:\n  - id: x\n    name: X\n    region: us\n"
                                            "    poc: {products: [InsightIDR], first_user: a@b.example, expires: 2026-02-30}\n"),
           "invalid date '2026-02-30'"),
    Attack("file over 64 MiB (sparse, 65 MiB)", _sparse("huge.yaml", 65 * MIB), "over the limit of 67,108,864"),
    Attack("number of 20,000 digits", _file("digits.yaml", "version: " + "7" * 20_000 + "\n"), "expected 1, got a long string"),
    Attack("10 MB scalar", _file("long.yaml", 'version: 1\npartner: {id: a, name: "' + "x" * 10_000_000 + '", region: us}\n'),
           "is longer than"),
    Attack("not UTF-8 (Latin-1)", _file("latin1.yaml", "version: 1\npartner: {name: Caf\xe9}\n".encode("latin-1")), "file is not valid UTF-8"),
    Attack("UTF-16", _file("utf16.yaml", "version: 1\n".encode("utf-16")), "file is not UTF-8 (it looks like UTF-16)"),
    Attack("binary file", _file("binary.yaml", bytes(range(256)) * 64), "file is binary, not a YAML manifest"),
    Attack("empty file", _file("empty.yaml", ""), "file is empty"),
    Attack("directory with no manifest", _empty_dir, "no manifest files (*.yaml, *.yml) found"),
]


def run_attack(attack: Attack, where: Path) -> tuple[int, float, float, str]:
    """Exit code, seconds, own peak RSS in MB and output of ``accessplan validate`` on the attack."""
    where = where.resolve()
    path = attack.make(where).relative_to(where)  # run from its directory: messages name the file alone
    m = measured(accessplan_cmd("validate", str(path)), cwd=where, timeout=60)
    return m.code, m.seconds, m.rss_mb, m.out + m.err


def attack_trial(root: Path, attacks: list[Attack] = ATTACKS, max_seconds: float = MAX_SECONDS,
                 max_rss_mb: float = MAX_RSS_MB) -> tuple[Trial, list[tuple[str, str, float, float, str]]]:
    """Run every attack; also return (name, verdict, seconds, MB, output) rows for the report."""
    trial = Trial("YAML attacks (SPEC section 2)")
    rows = []
    for i, attack in enumerate(attacks):
        where = root / f"attack-{i:02d}"
        where.mkdir(parents=True)
        code, seconds, rss, output = run_attack(attack, where)
        problems = []
        if code != 1:
            problems.append(f"exit {code}")
        if attack.expect not in output:
            problems.append(f"message missing: {output.strip()[:200]!r}")
        if "Traceback" in output:
            problems.append("traceback")
        if seconds > max_seconds:
            problems.append(f"{seconds:.2f} s > {max_seconds} s")
        if rss > max_rss_mb:
            problems.append(f"{rss:.0f} MB > {max_rss_mb:.0f} MB")
        trial.runs += 1
        if problems:
            trial.fail(f"{attack.name}: {'; '.join(problems)}")
        rows.append((attack.name, "refused" if not problems else "; ".join(problems), seconds, rss, output))
        for p in where.iterdir():  # the large inputs go as soon as they are measured
            if p.is_file():
                p.unlink()
    trial.facts["slowest"] = f"{max(r[2] for r in rows):.2f} s"
    trial.facts["largest peak RSS"] = f"{max(r[3] for r in rows):.0f} MB"
    return trial.done(), rows
