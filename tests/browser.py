"""Headless Chromium driven over the DevTools protocol: open pages, fill and submit forms the
way a person does, read the page, and take screenshots. Every wait is on a condition (a page
load, an answer) with a generous limit, never a fixed sleep."""

from __future__ import annotations

import base64
import http.cookiejar
import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import websocket  # websocket-client

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run")
# The account the served test ledgers are given (made with the real `staff add`).
STAFF, PASSWORD = "suzuki.hanako", "春の受付2022-確認"

LIMIT = 120.0  # seconds; only a wedged browser takes this long


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    def __init__(self, ws: websocket.WebSocket) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Network.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  width=1280, height=900, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        wanted = self.next_id
        self.ws.send(json.dumps({"id": wanted, "method": method, "params": params}))
        deadline = time.monotonic() + LIMIT
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(method)

    def _wait_load(self, seen: int) -> None:
        deadline = time.monotonic() + LIMIT
        while time.monotonic() < deadline:
            if any(e["method"] == "Page.loadEventFired" for e in self.events[seen:]):
                return
            message = json.loads(self.ws.recv())
            if "method" in message:
                self.events.append(message)
        raise TimeoutError("page load")

    def open(self, url: str) -> str:
        seen = len(self.events)
        self.call("Page.navigate", url=url)
        self._wait_load(seen)
        return self.url

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def fill(self, selector: str, value: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")

    def click(self, selector: str) -> str:
        """Click what `selector` finds (a submit button) and wait for the page it leads to."""
        seen = len(self.events)
        self.js(f"document.querySelector({json.dumps(selector)}).click()")
        self._wait_load(seen)
        return self.url

    @property
    def url(self) -> str:
        return self.js("location.href")

    def text(self) -> str:
        return self.js("document.body.innerText")

    def html(self) -> str:
        return self.js("document.documentElement.outerHTML")

    def cookies(self) -> list[dict[str, Any]]:
        return self.call("Network.getCookies")["cookies"]

    def screenshot(self, path: Path) -> Path:
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": 1280,
                               "height": min(max(size["height"], 600), 6000), "scale": 1})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@contextmanager
def browser(chromium: str, profile: Path) -> Iterator[Browser]:
    """A fresh headless Chromium (its own profile: no cookies) with one page to drive."""
    port = free_port()
    proc = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
         f"--remote-debugging-port={port}", "--remote-allow-origins=*", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + LIMIT
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                    pages = [t for t in json.loads(r.read()) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not open its DevTools port (exit {proc.poll()})")
            time.sleep(0.2)
        ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=LIMIT,
                                         suppress_origin=True)
        try:
            yield Browser(ws)
        finally:
            ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- plain HTTP helpers (for what a browser would not show: status codes and headers) -------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


class Answer:
    def __init__(self, status: int, headers: object, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def fetch(opener: urllib.request.OpenerDirector, url: str | urllib.request.Request,
          data: bytes | None = None) -> Answer:
    try:
        with opener.open(url, data=data, timeout=60) as answer:
            return Answer(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def csrf_form(opener: urllib.request.OpenerDirector, url: str) -> dict[str, str]:
    page = fetch(opener, url).text
    return {"csrftoken": re.search(r'name="csrftoken" value="([^"]+)"', page).group(1)}


def signed_in_opener(base: str, name: str = STAFF, password: str = PASSWORD,
                     ) -> tuple[http.cookiejar.CookieJar, urllib.request.OpenerDirector]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = csrf_form(opener, f"{base}/login")
    form.update(username=name, password=password, next="/")
    answer = fetch(opener, f"{base}/login", data=urllib.parse.urlencode(form).encode())
    assert answer.status == 200 and "申請一覧" in answer.text
    return jar, opener
