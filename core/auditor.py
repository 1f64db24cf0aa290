"""What the auditor's own network could do during a run — judged from stored evidence. Pure.

The crawler stores a self-check per run (``crawler/selfcheck.py``: reference names asked of our
resolver, TCP connections over IPv4 and IPv6). This module turns those rows — plus what the run
itself proved, e.g. any page that answered over IPv6 — into three facts the checks and reports
use, each ``True`` (works), ``False`` (shown not to work) or ``None`` (could not tell):

* ``dns``  — our resolver answers names outside the audited sites. ``False``: external links
  that failed are "not checked", never broken (an intranet resolver is not the link's fault).
* ``ipv4`` / ``ipv6`` — we can reach the Internet over that family. ``ipv6 = False``: every IPv6
  verdict that needed an IPv6 connection is 无法核验 (an office without IPv6 would otherwise call
  every AAAA site 假IPv6).

A run stored before the self-check existed has no rows: every fact is ``None`` and checks judge
as they did then (re-judging old runs gives the same results).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_STATE_ZH = {True: "正常", False: "不可用", None: "未能确认"}


@dataclass(frozen=True)
class AuditorNetwork:
    dns: bool | None = None
    ipv4: bool | None = None
    ipv6: bool | None = None
    ran: bool = False                         # a self-check is stored for the run
    details: dict[str, str] = field(default_factory=dict)   # kind -> Chinese explanation

    def summary_zh(self) -> str:
        if not self.ran:
            return "本次核查未进行核查方网络自检（旧数据）"
        parts = [f"DNS解析外部域名{_STATE_ZH[self.dns]}", f"IPv4网络{_STATE_ZH[self.ipv4]}",
                 f"IPv6网络{_STATE_ZH[self.ipv6]}"]
        return "核查方网络自检：" + "，".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"ran": self.ran, "dns": self.dns, "ipv4": self.ipv4, "ipv6": self.ipv6,
                "text": self.summary_zh(), "details": dict(self.details)}


def _family(rows: list[Mapping[str, Any]], proven: bool) -> tuple[bool | None, str]:
    """A family works when any reference connected or the run itself got an answer over it; it
    does not when some reference resolved but no connection succeeded; else unknown."""
    ok = [r for r in rows if r["ok"]]
    if ok:
        return True, f"参考目标连通正常（{len(ok)}/{len(rows)}）"
    if proven:
        return True, "本次核查中有网站经该协议正常应答"
    tried = [r for r in rows if not str(r["detail"] or "").startswith("unresolved")]
    if tried:
        return False, "；".join(f"{r['target']}（{r['detail']}）" for r in tried[:3])
    return None, "参考目标均未能解析，无法测试" if rows else "未配置参考目标"


def judge_network(selfcheck: Iterable[Mapping[str, Any]], *, ipv4_answered: bool, ipv6_answered: bool,
                  outside_resolved: bool) -> AuditorNetwork:
    """``*_answered``: some fetch of the run got an HTTP answer over that family;
    ``outside_resolved``: some name outside the audited sites resolved during the run."""
    rows = list(selfcheck)
    if not rows:
        return AuditorNetwork()
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_kind.setdefault(str(r["kind"]), []).append(r)
    details: dict[str, str] = {}
    names = by_kind.get("dns", [])
    dns_ok: bool | None
    if any(r["ok"] for r in names):
        dns_ok, details["dns"] = True, "参考域名解析正常"
    elif outside_resolved:
        dns_ok, details["dns"] = True, "本次核查中外部域名解析正常"
    elif names:
        dns_ok = False
        details["dns"] = "参考域名均无法解析：" + "；".join(f"{r['target']}（{r['detail']}）" for r in names[:3])
    else:
        dns_ok, details["dns"] = None, "未配置参考域名"
    v4, details["ipv4"] = _family(by_kind.get("ipv4", []), ipv4_answered)
    v6, details["ipv6"] = _family(by_kind.get("ipv6", []), ipv6_answered)
    return AuditorNetwork(dns=dns_ok, ipv4=v4, ipv6=v6, ran=True, details=details)
