"""The HTML report in a real browser: Debian's headless Chromium, driven over its DevTools pipe.

Checks what a reviewer would see: the matrix drawn by the page's own script
shows the example's assignments; the page logs nothing (no script error, no
blocked load) and asks the network for nothing; a 2,000 x 1,000 organisation's
report stays small and draws within a time bound, one page at a time. A
screenshot is saved; ``ACCESSPLAN_UPDATE_SCREENSHOT=1`` also refreshes the one in
``docs/``.

Chromium runs with the flags the issue names plus a few that keep its own
background traffic (time sync, sign-in, updates) on this machine: every host
name resolves to nothing and every request goes to a closed local port.
``make test`` installs Chromium; without it these tests fail, they never skip.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report import T0, run, set_relationships  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
LOCAL_ONLY = [
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
    "--disable-extensions", "--disable-default-apps", "--no-pings", "--disable-domain-reliability",
    "--disable-client-side-phishing-detection", "--disable-breakpad", "--remote-debugging-pipe",
]  # fmt: skip
WIDTH, HEIGHT = 1400, 1000


class Browser:
    """Headless Chromium over ``--remote-debugging-pipe``: NUL-separated JSON on fds 3 and 4."""

    def __init__(self, profile: Path) -> None:
        if not os.access(CHROMIUM, os.X_OK):
            pytest.fail(f"{CHROMIUM} is missing: run 'make test' (it installs Debian's chromium) or 'apt-get install chromium'")
        commands_r, self._commands = os.pipe()
        self._replies, replies_w = os.pipe()

        def wire() -> None:
            os.dup2(commands_r, 3)
            os.dup2(replies_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, *LOCAL_ONLY, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(commands_r)
        os.close(replies_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 60) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return dict(reply["result"])
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 60) -> dict[str, Any]:
        for i, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            event = self._read(max(0.05, deadline - time.monotonic()))
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self.events.append(event)

    def _read(self, timeout: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._replies], [], [], timeout)
            if not ready:
                raise AssertionError(f"Chromium sent nothing for {timeout:.0f} s")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise AssertionError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except AssertionError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._commands)
        os.close(self._replies)


class Page:
    """One tab with a file loaded; what it logged and requested is kept."""

    def __init__(self, browser: Browser, path: Path) -> None:
        self.browser = browser
        target = browser.call("Target.createTarget", {"url": "about:blank"})
        self.session = str(browser.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"])
        for domain in ("Page", "Network", "Runtime", "Log"):
            browser.call(f"{domain}.enable", session=self.session)
        browser.call("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session=self.session)
        self.url = path.resolve().as_uri()
        started = time.monotonic()
        browser.call("Page.navigate", {"url": self.url}, session=self.session)
        browser.wait_for("Page.loadEventFired", self.session)
        self.load_seconds = time.monotonic() - started

    def js(self, expression: str) -> Any:
        result = self.browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self.session)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def screenshot(self, path: Path, full: bool = False) -> None:
        params: dict[str, Any] = {"format": "png"}
        if full:
            height = self.js("document.documentElement.scrollHeight")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1})
        path.write_bytes(base64.b64decode(self.browser.call("Page.captureScreenshot", params, session=self.session)["data"]))

    def mine(self, *methods: str) -> list[dict[str, Any]]:
        return [e["params"] for e in self.browser.events if e.get("sessionId") == self.session and e.get("method") in methods]

    def problems(self) -> list[str]:
        """Everything the page logged: console calls, uncaught errors, blocked loads (CSP)."""
        found = [f"console.{p['type']}: {p['args']}" for p in self.mine("Runtime.consoleAPICalled")]
        found += [f"exception: {p['exceptionDetails']}" for p in self.mine("Runtime.exceptionThrown")]
        found += [f"log {p['entry']['level']}: {p['entry']['text']}" for p in self.mine("Log.entryAdded")]
        return found

    def requests(self) -> list[str]:
        return [p["request"]["url"] for p in self.mine("Network.requestWillBeSent")]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- the example ---------------------------------------------------------------------------


@pytest.fixture()
def example_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """The example applied, three customers approved and one revoked, and a plan adding a grant."""
    shutil.copytree(REPO / "examples" / "mssp", tmp_path / "mssp")
    monkeypatch.chdir(tmp_path)
    apply = ("--now", T0, "apply", "mssp", "--state", "state", "--auto-approve", "--allow-escalation")
    assert run(capsys, *apply)[0] == 0
    set_relationships(tmp_path / "state", globex="approved", umbrella="approved", soylent="approved", vandelay="revoked")
    assert run(capsys, *apply)[0] == 0
    grants = tmp_path / "mssp" / "grants.yaml"
    grants.write_text(
        grants.read_text(encoding="utf-8")
        + "  - users: [tomas.novak@bastionsec.example]\n    customers: [globex]\n    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n",
        encoding="utf-8",
    )
    later = "2026-11-24T08:00:00Z"
    assert run(capsys, "--now", later, "plan", "mssp", "--state", "state", "--out", "change.plan")[0] == 0
    assert run(capsys, "--now", later, "report", "mssp", "--state", "state", "--plan", "change.plan", "--out", "report.html")[0] == 0
    return tmp_path / "report.html"


def test_the_example_matrix_shows_every_assignment(browser: Browser, example_report: Path, tmp_path: Path) -> None:
    from accessplan.loader import load_manifest
    from accessplan.resolve import resolve

    page = Page(browser, example_report)
    assert page.js("document.body.dataset.ready") == "true"
    shown = page.js("Array.from(document.querySelectorAll('td[data-u]')).map(td => [td.dataset.u, td.dataset.c, td.className, td.textContent])")
    by_pair = {(u, c): (cls, text) for u, c, cls, text in shown}
    manifest = load_manifest(example_report.parent / "mssp")
    assert set(by_pair) == {(user, cid) for cid, user in resolve(manifest).assignments}
    assert by_pair[("maria.santos@bastionsec.example", "globex")] == ("cell admin", "A")
    assert by_pair[("liam.oconnor@bastionsec.example", "globex")] == ("cell prod", "IDR")
    # Initech is still pending: its assignments are not live, and the plan's changes there are deferred.
    assert by_pair[("kenji.watanabe@bastionsec.example", "initech")] == ("cell admin notlive imp-deferred esc", "AIDR\u25b2")
    assert by_pair[("priya.raman@bastionsec.example", "initech")] == ("cell admin timed notlive imp-deferred esc", "AIDR\u25f7\u25b2")
    assert by_pair[("tomas.novak@bastionsec.example", "globex")] == ("cell prod notlive imp-new esc", "IDR\u25b2")  # the plan's new grant, not applied yet
    headers = page.js("Array.from(document.querySelectorAll('th.customer')).map(th => [th.dataset.c, th.className])")
    assert headers == [
        ["globex", "customer approved"], ["initech", "customer pending"], ["soylent", "customer approved"],
        ["umbrella", "customer approved"], ["vandelay", "customer revoked"],
    ]  # fmt: skip
    assert page.js("document.getElementById('pager-customers').textContent") == "Customers 1\u20135 of 5"
    shot = tmp_path / "report-example.png"
    page.screenshot(shot, full=True)
    assert png_size(shot)[0] == WIDTH
    if os.environ.get("ACCESSPLAN_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, REPO / "docs" / "report-example.png")
    assert page.problems() == []
    assert page.requests() == [page.url]


def test_filters_redraw_the_matrix(browser: Browser, example_report: Path) -> None:
    page = Page(browser, example_report)
    page.js("const q = document.getElementById('q-customer'); q.value = 'tier:gold'; q.dispatchEvent(new Event('input'))")
    assert page.js("Array.from(document.querySelectorAll('th.customer')).map(th => th.dataset.c)") == ["globex", "umbrella"]
    page.js("const s = document.getElementById('q-only'); s.value = 'impact'; s.dispatchEvent(new Event('change'))")
    assert page.js("Array.from(document.querySelectorAll('td[data-u]')).map(td => td.dataset.u + ' ' + td.dataset.c)") == [
        "tomas.novak@bastionsec.example globex",
    ]
    assert page.problems() == []


# --- a large organisation ------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("large")
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), "--size", "large", "--out", str(root / "org")], check=True, capture_output=True)
    out = root / "report.html"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "accessplan"), "--now", T0, "report", str(root / "org"), "--state", str(root / "state"), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith("1,000 partner users x 2,000 customers, 99,956 assignments, 0 conflicts, 0 expiring.\n")
    return out


def test_a_large_report_is_small_and_draws_one_page_quickly(browser: Browser, large_report: Path) -> None:
    assert large_report.stat().st_size < 4_000_000  # about 17 bytes per assignment
    page = Page(browser, large_report)
    assert page.load_seconds < 10
    assert int(page.js("document.body.dataset.loadMs")) < 3_000  # parse the data, index it, draw the first page
    assert page.js("document.getElementById('pager-customers').textContent") == "Customers 1\u201325 of 2000"
    assert page.js("document.querySelectorAll('th.customer').length") == 25
    assert page.js("document.querySelectorAll('#matrix-table tbody tr').length") == 100
    page.js("document.getElementById('c-next').click()")
    assert page.js("document.getElementById('pager-customers').textContent") == "Customers 26\u201350 of 2000"
    assert int(page.js("document.body.dataset.renderMs")) < 1_000
    page.js("const g = document.getElementById('q-group'); g.value = 'tier'; g.dispatchEvent(new Event('change'))")
    assert page.js("Array.from(document.querySelectorAll('tr.groups th')).map(th => th.textContent)")[1:] == ["bronze"]
    assert page.problems() == []
    assert page.requests() == [page.url]
