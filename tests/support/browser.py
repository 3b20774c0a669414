"""Drives Debian's headless Chromium through chromedriver (W3C WebDriver over HTTP, httpx)."""

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"  # W3C WebDriver element reference
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,900",
)


def available() -> str | None:
    """None when Chromium and chromedriver are installed, else what is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    return ", ".join(missing) + " not installed" if missing else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout_s: float, what: str,
               interval_s: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy; AssertionError naming `what` at the
    deadline (with the last value seen)."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.1f} s waiting for {what} "
                                 f"(last: {last!r})")
        time.sleep(interval_s)


class WebDriverError(RuntimeError):
    pass


class Browser:
    """One chromedriver process and one Chromium session with a fresh profile."""

    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="lumenrig-chromium-")
        self.port = free_port()
        self.driver = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # A failure deadline: a page drawing live plots on a machine with no core to spare can
        # keep chromedriver's answer to a click waiting for a minute.
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=240)
        self.session = ""
        try:
            wait_until(self._driver_ready, 60, "chromedriver to listen")
            caps = {"browserName": "chrome", "goog:loggingPrefs": {"browser": "ALL"},
                    "goog:chromeOptions": {"binary": CHROMIUM, "args": [
                        *CHROMIUM_FLAGS, "--user-data-dir=" + self.profile]}}
            value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
            self.session = value["sessionId"]
        except BaseException:
            self.quit()
            raise

    def _driver_ready(self) -> bool:
        try:
            return bool(self.http.get("/status").json()["value"]["ready"])
        except (httpx.HTTPError, ValueError, KeyError):
            return False

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        response = self.http.request(method, path, json=body if method == "POST" else None)
        value = response.json().get("value")
        if response.status_code >= 400:
            raise WebDriverError(f"{method} {path}: {value}")
        return value

    def _s(self, method: str, path: str, body: dict | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}",
                          {} if body is None and method == "POST" else body)

    def quit(self) -> None:
        try:
            if self.session:
                self._call("DELETE", "/session/" + self.session)
        except (httpx.HTTPError, WebDriverError):
            pass
        self.http.close()
        self.driver.terminate()
        try:
            self.driver.wait(10)
        except subprocess.TimeoutExpired:
            self.driver.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    # --------------------------------------------------------------- page

    def get(self, url: str) -> None:
        self._s("POST", "/url", {"url": url})

    def refresh(self) -> None:
        """Load the page again (get() to the same URL with another #fragment does not)."""
        self._s("POST", "/refresh")

    def js(self, script: str, *args: Any) -> Any:
        """Run `script` as a function body in the page (arguments[0..]) and return its value."""
        return self._s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def js_async(self, script: str, *args: Any) -> Any:
        """An async script: it calls arguments[arguments.length - 1](result) when done."""
        return self._s("POST", "/execute/async", {"script": script, "args": list(args)})

    def cdp(self, command: str, params: dict | None = None) -> Any:
        return self._s("POST", "/goog/cdp/execute", {"cmd": command, "params": params or {}})

    def viewport(self, width: int, height: int, mobile: bool = False) -> None:
        """Emulate a screen of this CSS size (a phone with mobile=True)."""
        self.cdp("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """A PNG of the page (its full height with full_page)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        shot = self.cdp("Page.captureScreenshot", {"format": "png",
                                                   "captureBeyondViewport": full_page})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def console_errors(self) -> list[str]:
        """Browser console messages of level SEVERE since the last call."""
        entries = self._s("POST", "/se/log", {"type": "browser"}) or []
        return [e["message"] for e in entries if e.get("level") == "SEVERE"]

    # --------------------------------------------------------------- elements

    def find(self, css: str) -> str | None:
        """The first element matching `css`, or None."""
        found = self._s("POST", "/elements", {"using": "css selector", "value": css})
        return found[0][ELEMENT_KEY] if found else None

    def element(self, css: str, timeout_s: float = 30) -> str:
        return wait_until(lambda: self.find(css), timeout_s, f"element {css}")

    def click(self, css: str, timeout_s: float = 30) -> None:
        """Click the first element matching `css` once it is shown and enabled; an element the
        page drew anew meanwhile (a stale reference) is looked up again."""
        deadline = time.monotonic() + timeout_s
        while True:
            element = self.element(css, timeout_s)
            try:
                wait_until(lambda shown=element: self.js(
                    "const e = arguments[0]; return !!e && e.offsetParent !== null && "
                    "!e.disabled;", {ELEMENT_KEY: shown}), timeout_s, f"{css} to be clickable")
                self._s("POST", f"/element/{element}/click")
                return
            except WebDriverError as exc:
                if "stale element" not in str(exc) or time.monotonic() > deadline:
                    raise

    def type(self, css: str, text: str, clear: bool = True) -> None:
        element = self.element(css)
        if clear:
            self._s("POST", f"/element/{element}/clear")
        self._s("POST", f"/element/{element}/value", {"text": text})

    def text(self, css: str) -> str:
        """Rendered text of the first match ('' when there is none), read in one step so a
        page that re-renders meanwhile cannot make the reference stale."""
        return self.js("const e = document.querySelector(arguments[0]);"
                       "return e ? e.innerText.trim() : '';", css)
