"""Wall time and peak memory of one command, measured as its own process.

The peak resident set size of a finished child (``ru_maxrss`` from
:func:`os.wait4`) is at least its parent's peak when it was forked: Linux
carries the old address space's high-water mark across ``exec``. A benchmark
whose own memory grew would see it in every child. So the command is started by
a tiny launcher (a fresh interpreter, a few MB): the launcher forks and execs
the command, reaps it with ``wait4`` and writes its exit status, wall time and
``ru_maxrss`` to a file. The figure is the command's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
with open(report, "w") as fh:
    fh.write(f"{os.waitstatus_to_exitcode(status)} {elapsed} {usage.ru_maxrss}")
"""


@dataclass(frozen=True)
class Measured:
    code: int  # exit code; negative: killed by that signal; None-like -9 when stopped at the time limit
    seconds: float
    rss_mb: float
    out: str
    err: str
    timed_out: bool = False


def measured(argv: list[str], *, cwd: Path | None = None, timeout: float | None = None, env: dict[str, str] | None = None) -> Measured:
    """Run ``argv``; its exit code, wall time, own peak RSS (MB) and output. Stopped after ``timeout`` seconds."""
    with tempfile.TemporaryDirectory(prefix="accessplan-measure-") as tmp:
        report = Path(tmp) / "report"
        out_path, err_path = Path(tmp) / "out", Path(tmp) / "err"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER, str(report), *argv], cwd=cwd, env=env,
                                    stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
            timed_out = False
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the command
                proc.wait()
            wall = time.perf_counter() - started
        text_out = out_path.read_text(errors="replace")
        text_err = err_path.read_text(errors="replace")
        if timed_out or not report.exists():
            return Measured(-signal.SIGKILL, wall, 0.0, text_out, text_err, timed_out)
        code, seconds, rss_kb = report.read_text().split()
        return Measured(int(code), float(seconds), int(rss_kb) / 1024, text_out, text_err)
