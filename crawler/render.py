"""Headless Chromium as the last resort for a list only a browser fills (issue 15, DOMAIN.md §9).

Why the DevTools protocol over ``--remote-debugging-pipe`` and not playwright or a websocket client:
the pipe opens no debugging port (any local process could drive a browser listening on loopback),
needs no new dependency (playwright-python ships its own Node driver pinned to one Chromium
revision and downloads browsers; Debian's ``chromium`` moves on its own), and the handful of
commands used here (Target, Fetch, Network, Runtime) are stable protocol.

Confinement — the browser may reach the site's own hosts only, at the addresses the audit resolved:
- ``--host-resolver-rules`` maps each site host to its audited address and every other name to
  NOTFOUND (the browser never asks a resolver);
- every HTTP(S) request is paused (``Fetch.enable``) and failed unless its host is one of the site's
  and its port the site's; images, fonts, media and style sheets are not fetched (not needed for the
  DOM, and spare the site);
- everything else (WebSockets, IP literals that slip past) goes to a dead proxy
  (``--proxy-server`` with ``<-loopback>`` so loopback is proxied too), WebRTC may not use UDP.
Budgets: one fresh temporary profile per page, a wall-clock deadline per page after which the whole
process group is killed, a cap on the DOM size and on the requests recorded.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.cdp import CdpPipe, launch

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio", "--no-default-browser-check",
         "--disable-features=Translate,MediaRouter,OptimizationHints,DnsOverHttps,PrivateNetworkAccessChecks",
         "--force-webrtc-ip-handling-policy=disable_non_proxied_udp", "--disable-dev-shm-usage",
         "--window-size=1280,900")
_DEAD_PROXY = "socks5://127.0.0.1:9"     # discard port: nothing answers, so proxied traffic fails
_SKIP_TYPES = {"Image", "Media", "Font", "Stylesheet", "Ping", "CSPViolationReport", "Manifest"}
MAX_RECORDED = 200
IDLE_MS = 500                            # network idle: no request in flight for this long


def find_chromium(configured: str = "") -> str | None:
    """The browser to use: the configured path, else ``chromium`` / ``chromium-browser`` on PATH."""
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Rendered:
    url: str
    status: str                       # ok | timeout | error | unavailable
    dom: str | None = None
    final_url: str | None = None
    http_status: int | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)   # every request the page made
    blocked: int = 0
    elapsed_ms: float = 0.0
    detail: str | None = None
    truncated: bool = False


def resolver_rules(pins: dict[str, list[str]]) -> str:
    """``--host-resolver-rules``: the site's hosts at the audited addresses, every other name unresolvable."""
    rules = []
    for host, addrs in pins.items():
        if addrs:
            a = addrs[0]
            rules.append(f"MAP {host} {'[' + a + ']' if ':' in a else a}")
    rules.append("MAP * ~NOTFOUND")
    return ", ".join(rules)


class Renderer:
    """Renders one page at a time in a fresh, confined headless Chromium."""

    def __init__(self, chromium: str, *, pins: dict[str, list[str]], allowed: Callable[[str], str | None],
                 timeout: float = 15.0, max_bytes: int = 2_000_000, user_agent: str | None = None):
        self.chromium = chromium
        self.pins = pins
        self.allowed = allowed          # url -> None when the browser may request it, else why not
        self.timeout, self.max_bytes, self.user_agent = timeout, max_bytes, user_agent

    async def render(self, url: str) -> Rendered:
        t0 = time.perf_counter()
        out = Rendered(url=url, status="error")
        args = [*FLAGS, f"--host-resolver-rules={resolver_rules(self.pins)}",
                f"--proxy-server={_DEAD_PROXY}", f"--proxy-bypass-list={';'.join(self.pins)};<-loopback>",
                *([f"--user-agent={self.user_agent}"] if self.user_agent else [])]
        try:
            async with launch(self.chromium, args, reader_limit=self.max_bytes * 2 + 1_000_000,
                              prefix="zwgk-render-") as pipe, asyncio.timeout(self.timeout):
                await self._drive(pipe, url, out)
        except ImportError:   # no fcntl: the browser pipe needs POSIX; the rest of the crawler runs on Windows
            out.status, out.detail = "unavailable", "本机系统不支持浏览器管道渲染（仅 Linux/macOS）"
        except TimeoutError:
            out.status, out.detail = "timeout", f"页面在{self.timeout:g}秒内未完成加载（脚本未结束或网络未空闲），已终止浏览器"
            out.dom = None
        except (OSError, RuntimeError, ConnectionError, ValueError) as e:
            out.status, out.detail = "error", f"{type(e).__name__}: {e}"[:300]
            out.dom = None
        out.elapsed_ms = round((time.perf_counter() - t0) * 1000, 1)
        return out

    async def _drive(self, pipe: CdpPipe, url: str, out: Rendered) -> None:
        target = await pipe.call("Target.createTarget", {"url": "about:blank"})
        att = await pipe.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        sid = att["sessionId"]
        await pipe.call("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]}, sid)
        await pipe.call("Network.enable", {}, sid)
        await pipe.call("Page.enable", {}, sid)
        inflight: set[str] = set()
        loaded = False
        nav = pipe.send("Page.navigate", {"url": url}, sid)
        last_activity = time.monotonic()
        while True:
            try:
                ev = await asyncio.wait_for(pipe.events.get(), timeout=IDLE_MS / 1000)
            except TimeoutError:
                ev = None
            now = time.monotonic()
            if ev is None:
                if loaded and not inflight and (now - last_activity) * 1000 >= IDLE_MS:
                    break
                continue
            m = ev.get("method")
            p = ev.get("params", {})
            if m == "__closed__":
                raise ConnectionError("browser exited")
            if m == "Fetch.requestPaused":
                self._on_paused(pipe, sid, p, out)
            elif m == "Network.requestWillBeSent":
                inflight.add(p.get("requestId", ""))
                last_activity = now
                if p.get("type") == "Document" and p.get("frameId") == target["targetId"]:
                    out.final_url = p.get("request", {}).get("url")
            elif m in ("Network.loadingFinished", "Network.loadingFailed"):
                inflight.discard(p.get("requestId", ""))
                last_activity = now
            elif m == "Network.responseReceived":
                if p.get("type") == "Document" and p.get("frameId") == target["targetId"]:
                    out.http_status = p.get("response", {}).get("status")
            elif m == "Page.loadEventFired":
                loaded = True
                last_activity = now
        got = await nav
        if got.get("result", {}).get("errorText"):
            raise RuntimeError(f"navigation failed: {got['result']['errorText']}")
        res = await pipe.call("Runtime.evaluate", {
            "expression": f"(function(){{var h=document.documentElement.outerHTML;"
                          f"return h.length>{self.max_bytes}?h.slice(0,{self.max_bytes}):h}})()",
            "returnByValue": True, "timeout": 3000}, sid)
        value = res.get("result", {}).get("value")
        if not isinstance(value, str):
            raise RuntimeError("the DOM could not be read")
        out.truncated = len(value) >= self.max_bytes
        out.dom = "<!DOCTYPE html>\n" + value
        out.status = "ok"
        with contextlib.suppress(ConnectionError, RuntimeError):
            await asyncio.wait_for(pipe.call("Browser.close"), 1)

    def _on_paused(self, pipe: CdpPipe, sid: str, p: dict[str, Any], out: Rendered) -> None:
        req = p.get("request", {})
        u, rtype = req.get("url", ""), p.get("resourceType", "")
        why = self.allowed(u)
        if why is None and rtype in _SKIP_TYPES:
            why = "not needed for the DOM"
        if len(out.requests) < MAX_RECORDED:
            out.requests.append({"url": u[:500], "method": req.get("method"), "type": rtype,
                                 **({"blocked": why} if why else {})})
        if why:
            if why != "not needed for the DOM":
                out.blocked += 1
            pipe.send("Fetch.failRequest", {"requestId": p["requestId"], "errorReason": "BlockedByClient"}, sid)
        else:
            pipe.send("Fetch.continueRequest", {"requestId": p["requestId"]}, sid)


def site_gate(hosts: set[str], ports: set[int]) -> Callable[[str], str | None]:
    """The browser's request rule: http(s) on one of the site's hosts and ports, nothing else."""
    def allowed(url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return None
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme}"
        host = (parts.hostname or "").lower()
        if host not in hosts:
            return "outside the site's hosts"
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return "bad port"
        if port not in ports:
            return f"port {port} not the site's"
        return None
    return allowed
