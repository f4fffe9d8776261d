"""Headless Chromium driven over the DevTools protocol on a pipe, with the network shut.

Why not Selenium: the tests need four things that are DevTools events or commands anyway
(``Network.requestWillBeSent``, ``Network.setBlockedURLs``, ``Runtime.exceptionThrown``,
``Page.addScriptToEvaluateOnNewDocument``); Selenium would reach them through chromedriver's
performance log and ``execute_cdp_cmd``, and it adds a package, a driver process that must
match the browser's version and Selenium Manager, which tries to download a driver when it
finds none. ``--remote-debugging-pipe`` talks the same protocol over two file descriptors
(JSON messages ended by NUL): no port, no websocket, no third-party package.

The browser is started with the flags that keep it off the network (no background
networking, component updates, sync), every host name resolving to nothing, and in each page
every ``http(s)``/``ws(s)`` URL blocked; every request the page makes is recorded.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--no-default-browser-check", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--remote-debugging-pipe")
BLOCKED = ("http://*", "https://*", "ws://*", "wss://*", "ftp://*")

# runs before any script of the page: dialogs are recorded instead of shown
RECORD_DIALOGS = """
window.__dialogs = [];
for (const name of ['alert', 'confirm', 'prompt', 'print']) {
  const record = function (...args) { window.__dialogs.push([name, String(args[0])]); };
  Object.defineProperty(window, name, {value: record, writable: false, configurable: false});
}
"""


def find() -> str | None:
    """The Chromium binary on this machine, or None."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class CDPError(RuntimeError):
    """The browser answered a command with an error, or did not answer in time."""


@dataclass
class Page:
    """One tab: its DevTools session and everything it reported."""

    browser: Browser
    session: str
    target: str
    events: list[dict[str, Any]] = field(default_factory=list)

    def close(self) -> None:
        """Close the tab."""
        self.browser.send("Target.closeTarget", targetId=self.target)
        self.browser.forget(self.session)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command to this page; return its result."""
        return self.browser.send(method, session=self.session, **params)

    def js(self, expression: str, *, timeout: float = 30) -> Any:
        """The value of a JavaScript expression (awaited when it is a promise)."""
        out = self.browser.send("Runtime.evaluate", session=self.session, timeout=timeout,
                                expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in out:
            raise CDPError(f"{expression[:80]!r}: {_exception_text(out['exceptionDetails'])}")
        return out["result"].get("value")

    def wait(self, method: str, *, timeout: float = 30) -> dict[str, Any]:
        """Wait for the next event ``method`` of this page."""
        seen = len(self.events)
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events[seen:]:
                if ev["method"] == method:
                    return ev
            seen = len(self.events)
            if time.monotonic() > deadline:
                raise CDPError(f"no {method} within {timeout} s")
            self.browser.pump(min(0.5, max(0.0, deadline - time.monotonic())))

    def wait_for(self, expression: str, *, timeout: float = 15) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise CDPError(f"{expression!r} still false after {timeout} s")
            time.sleep(0.05)

    def open(self, path: Path, *, timeout: float = 60) -> None:
        """Load a local file and wait for the window's load event."""
        self.send("Page.navigate", url=path.resolve().as_uri())
        self.wait("Page.loadEventFired", timeout=timeout)

    def click(self, x: float, y: float) -> None:
        """A real mouse click at a point of the viewport."""
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                      clickCount=1)

    def hover(self, x: float, y: float) -> None:
        """Move the mouse to a point of the viewport."""
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)

    def screenshot(self, path: Path) -> None:
        """Save the viewport as PNG."""
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def requests(self) -> list[str]:
        """Every URL the page asked for, in order (blocked ones included)."""
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log entries of level error."""
        out = []
        for e in self.events:
            p = e["params"]
            if e["method"] == "Runtime.exceptionThrown":
                out.append("Uncaught " + _exception_text(p["exceptionDetails"]))
            elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                out.append("console." + p["type"] + ": " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p["args"]))
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"{p['entry']['source']}: {p['entry']['text']} "
                           f"{p['entry'].get('url', '')}")
        return out

    def dialogs(self) -> list[str]:
        """Native dialogs that opened anyway (the page's overrides were bypassed)."""
        return [e["params"]["message"] for e in self.events
                if e["method"] == "Page.javascriptDialogOpening"]


class Browser:
    """A headless Chromium with a fresh profile, ended when the context closes."""

    def __init__(self, binary: str, *, width: int = 1400, height: int = 900) -> None:
        self.profile = tempfile.mkdtemp(prefix="siting-chromium-")
        self._log = Path(self.profile, "stderr.txt").open("wb")  # noqa: SIM115 (closed in close)
        to_child, self._out = _high(os.pipe())   # we write commands, Chromium reads fd 3
        self._in, from_child = _high(os.pipe())  # Chromium writes fd 4, we read
        args = [binary, *FLAGS, f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}", "about:blank"]
        # fds 3 and 4 are fixed by the protocol: bash moves the pipe ends there (dash's
        # redirections take one-digit descriptors only)
        script = f'exec "$0" "$@" 3<&{to_child} 4>&{from_child} {to_child}<&- {from_child}>&-'
        self.proc = subprocess.Popen(["/bin/bash", "-c", script, *args],
                                     pass_fds=(to_child, from_child),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._log)
        os.close(to_child)
        os.close(from_child)
        self.size = (width, height)
        self._next = 0
        self._buffer = b""
        self._replies: dict[int, dict[str, Any]] = {}
        self._pages: dict[str, Page] = {}

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the browser (it is ours: its process id) and remove its profile."""
        with contextlib.suppress(CDPError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._in, self._out):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def last_words(self) -> str:
        """The end of the browser's stderr (dbus complaints left out)."""
        self._log.flush()
        text = Path(self.profile, "stderr.txt").read_text(errors="replace").splitlines()
        return "\n".join([line for line in text if "dbus" not in line][-15:])

    def send(self, method: str, *, session: str | None = None, timeout: float = 30,
             **params: Any) -> dict[str, Any]:
        """Send a command and wait for its answer, keeping the events that come first."""
        self._next += 1
        key = self._next
        msg: dict[str, Any] = {"id": key, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while key not in self._replies:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise CDPError(f"{method}: no answer within {timeout} s")
            self.pump(left)
        reply = self._replies.pop(key)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def pump(self, timeout: float) -> None:
        """Read what the browser sent within ``timeout`` seconds and file it."""
        ready, _, _ = select.select([self._in], [], [], timeout)
        if not ready:
            return
        chunk = os.read(self._in, 1 << 20)
        if not chunk:
            raise CDPError("the browser closed the pipe; its last words:\n" + self.last_words())
        self._buffer += chunk
        *messages, self._buffer = self._buffer.split(b"\0")
        for raw in messages:
            self._file(json.loads(raw))

    def _file(self, msg: dict[str, Any]) -> None:
        if "id" in msg:
            self._replies[msg["id"]] = msg
            return
        page = self._pages.get(msg.get("sessionId", ""))
        if page is None:
            return
        page.events.append(msg)
        if msg["method"] == "Page.javascriptDialogOpening":   # never leave a page blocked
            os.write(self._out, json.dumps({
                "id": -1, "method": "Page.handleJavaScriptDialog", "sessionId": page.session,
                "params": {"accept": False}}).encode() + b"\0")
        elif msg["method"] == "Fetch.requestPaused":
            url = msg["params"]["request"]["url"]
            ok = url.startswith(("file:", "data:", "blob:", "about:"))
            os.write(self._out, json.dumps({
                "id": -1, "sessionId": page.session,
                "method": "Fetch.continueRequest" if ok else "Fetch.failRequest",
                "params": {"requestId": msg["params"]["requestId"]} | (
                    {} if ok else {"errorReason": "BlockedByClient"})}).encode() + b"\0")

    def forget(self, session: str) -> None:
        """Stop filing events for a closed tab."""
        self._pages.pop(session, None)

    def page(self) -> Page:
        """A new tab, network blocked and recorded, dialogs recorded, console collected."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session, target)
        self._pages[session] = page
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(f"{domain}.enable")
        page.send("Network.setBlockedURLs", urls=list(BLOCKED))
        page.send("Network.setCacheDisabled", cacheDisabled=True)
        page.send("Fetch.enable", patterns=[{"urlPattern": "*"}])
        w, h = self.size
        page.send("Emulation.setDeviceMetricsOverride", width=w, height=h,
                  deviceScaleFactor=1, mobile=False)
        page.send("Page.addScriptToEvaluateOnNewDocument", source=RECORD_DIALOGS)
        return page


def _high(fds: tuple[int, int]) -> tuple[int, int]:
    """The pipe's ends moved to descriptors above 9, clear of the 3 and 4 the child needs."""
    out = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return out[0], out[1]


def _exception_text(details: dict[str, Any]) -> str:
    exc = details.get("exception") or {}
    return str(exc.get("description") or details.get("text") or details)
