"""How the manifest readers compare on a generated org: the numbers behind the loader's design.

    python benchmarks/parse_bench.py [--size large] [--runs 5]

Times, in one process and one run (medians of ``--runs``), reading every file
of a generated manifest directory with: the fast reader (yaml-rs behind
``fastyaml.eligible``), the strict event-built reader (``yamlsafe``, without and
with positions), PyYAML's C ``CSafeLoader``, and ruamel.yaml's round-trip loader
(once: it is slow); then the whole ``load_manifest`` (read, parse, pydantic).
Prints a Markdown table. Cyclic GC is off, as in the CLI.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

from accessplan import fastyaml, yamlsafe  # noqa: E402
from accessplan.loader import load_manifest  # noqa: E402


def timed(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    gc.disable()

    import yaml
    from ruamel.yaml import YAML

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "org"
        counts = generate(args.size, root)
        texts = [p.read_text() for p in sorted(root.rglob("*.yaml"))]
        megabytes = sum(len(t.encode()) for t in texts) / 1e6
        rt = YAML(typ="rt")

        rows = [
            ("yaml-rs (fast path, eligibility check included)", timed(lambda: [fastyaml.load(t) for t in texts], args.runs)),
            ("strict reader (libyaml events, built in Python)", timed(lambda: [yamlsafe.load(t) for t in texts], args.runs)),
            ("strict reader with positions", timed(lambda: [yamlsafe.load(t, positions=True) for t in texts], args.runs)),
            ("PyYAML CSafeLoader", timed(lambda: [yaml.load(t, Loader=yaml.CSafeLoader) for t in texts], args.runs)),
            ("ruamel.yaml round-trip (1 run)", timed(lambda: [rt.load(t) for t in texts], 1)),
            ("load_manifest: read + parse + pydantic", timed(lambda: load_manifest(root), args.runs)),
        ]
    print(f"{args.size}: {counts['files']:,} files, {megabytes:.1f} MB, {counts['assignments']:,} assignments; medians of {args.runs}\n")
    print("| reader | seconds |")
    print("| --- | ---: |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
