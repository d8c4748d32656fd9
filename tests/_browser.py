"""Load a local page in headless Chromium over the DevTools protocol (for the report tests).

Starts Debian's ``chromium`` with a throw-away profile and no network services, opens the page,
records console messages, uncaught exceptions, JavaScript dialogs and every request the page
makes, evaluates DOM queries and takes screenshots.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

__all__ = ["chromium_path", "require_chromium", "load_page"]

_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-dev-shm-usage", "--hide-scrollbars", "--remote-debugging-port=0",
          "--remote-allow-origins=*"]


def chromium_path() -> str | None:
    """Path of a Chromium executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def require_chromium() -> str:
    """Return Chromium's path; skip the test without it, except in CI where that fails."""
    path = chromium_path()
    try:
        import websocket  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("The websocket-client package is needed for the browser tests in CI.")
        pytest.skip("websocket-client is not installed.")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed but CI must run the browser tests.")
        pytest.skip("Chromium is not installed (apt-get install chromium).")
    return path


class _Session:
    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 60.0) -> dict:
        for ev in self.events:
            if ev["method"] == method:
                return ev
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise TimeoutError(method)

    def eval(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def close(self) -> None:
        self.ws.close()


def load_page(page: Path, evaluate: dict[str, str], screenshots: dict[Path, str | None],
              width: int = 1400, height: int = 1600) -> dict:
    """Open ``page`` in headless Chromium and report what happened.

    Parameters
    ----------
    page : Path
        The HTML file.
    evaluate : dict
        ``{name: JavaScript expression}`` evaluated after load (results by value).
    screenshots : dict
        ``{png path: CSS selector or None}``; None takes the viewport, a selector clips to
        that element.

    Returns
    -------
    dict
        ``values`` (evaluation results), ``console_errors``, ``exceptions``, ``dialogs``,
        ``requests`` (URLs the page requested).
    """
    exe = require_chromium()
    profile = tempfile.mkdtemp(prefix="rm-chromium-")
    proc = subprocess.Popen([exe, *_FLAGS, f"--user-data-dir={profile}",
                             f"--window-size={width},{height}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        end = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("Chromium did not start its DevTools endpoint.")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
            targets = json.load(r)
        target = next(t for t in targets if t.get("type") == "page")
        s = _Session(target["webSocketDebuggerUrl"])
        try:
            for dom in ("Runtime.enable", "Log.enable", "Page.enable", "Network.enable"):
                s.call(dom)
            s.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                   deviceScaleFactor=1, mobile=False)
            s.call("Page.navigate", url=page.resolve().as_uri())
            s.wait_event("Page.loadEventFired")
            s.eval("document.fonts.ready.then(() => true)")
            values = {k: s.eval(js) for k, js in evaluate.items()}
            for png, selector in screenshots.items():
                params: dict = {"format": "png"}
                if selector is not None:
                    rect = s.eval(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                                  f".getBoundingClientRect(); return [r.x + window.scrollX, "
                                  f"r.y + window.scrollY, r.width, r.height]; }})()")
                    params.update(clip={"x": rect[0], "y": rect[1], "width": rect[2],
                                        "height": rect[3], "scale": 1},
                                  captureBeyondViewport=True)
                data = s.call("Page.captureScreenshot", **params)["data"]
                png.parent.mkdir(parents=True, exist_ok=True)
                png.write_bytes(base64.b64decode(data))
            time.sleep(0.2)
            s.call("Runtime.evaluate", expression="1")  # flush pending events
        finally:
            s.close()
        ev = s.events
        console_errors = [e["params"] for e in ev if e["method"] == "Runtime.consoleAPICalled"
                          and e["params"].get("type") in ("error", "assert")]
        console_errors += [e["params"]["entry"] for e in ev if e["method"] == "Log.entryAdded"
                           and e["params"]["entry"].get("level") == "error"]
        return {
            "values": values,
            "console_errors": console_errors,
            "exceptions": [e["params"] for e in ev if e["method"] == "Runtime.exceptionThrown"],
            "dialogs": [e["params"] for e in ev if e["method"] == "Page.javascriptDialogOpening"],
            "requests": [e["params"]["request"]["url"] for e in ev
                         if e["method"] == "Network.requestWillBeSent"],
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
