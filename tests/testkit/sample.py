"""A small synthetic judged district in a real Store, for report tests and golden files.

Two complete runs of the same sites (2026-03 and 2026-06); between them the portal fixed one
broken link and got a new one, and 田墘's site came back online (its veto is fixed). Crawled text is hostile on purpose: a link title that is an Excel formula
(``=HYPERLINK(...)``) and a page title with ``<script>``.
"""
from __future__ import annotations

import json
from typing import Any

from core.model import CheckResult, Finding, Outcome, Severity
from core.rules import Rules
from core.store import Store

SCRIPT_TITLE = '<script>alert("xss")</script>通知公告'
FORMULA_TITLE = '=HYPERLINK("http://evil.example/","点击领取")'

MESSAGES: dict[str, str] = {
    "availability.ok": "首页可访问，成功率 {ratio}",
    "availability.down": "首页无法访问：失败率 {ratio}",
    "links.some_broken": "发现 {count} 个不可用链接",
    "links.broken": "{title}：链接无法访问（{status}）",
    "links.ok": "链接均可访问",
    "column-blank.blank": "空白栏目：{name}",
    "column-blank.ok": "未发现空白栏目",
    "column-blank.many": "空白栏目 {count} 个，达到单项否决标准",
    "regulations-column.missing": "未找到规章栏目",
    "regulations-column.ok": "规章栏目完整",
    "ipv6.fake": "有AAAA记录但IPv6首页无法访问（{address}）",
    "ipv6.ok": "IPv6访问正常",
    "ipv6.dns": "无法解析：{oops",            # a broken template: reports must survive it
}
TITLES = {"availability": "站点可访问性", "links": "链接可用性", "column-blank": "空白栏目",
          "regulations-column": "规章栏目", "ipv6": "IPv6支持"}

RULES_TABLES: dict[str, Any] = {
    "meta": {"version": "test.1"},
    "scoring": {"full_marks": 100, "fail_below": 60, "bonus_above": 80, "bonus_cap": 30,
                "no_service_base": 75, "no_service_factor": 1.3333333333},
    "checks": {
        "availability": {"level": "veto", "veto": True, "points": 10},
        "links": {"level": "deduct", "points": 10, "per_finding": 2},
        "column-blank": {"level": "veto", "veto": True, "points": 10, "per_finding": 2},
        "regulations-column": {"level": "deduct", "points": 5},
        "ipv6": {"level": "deduct", "points": 5},
    },
    "task": [
        {"number": 26, "group": "做好政务信息管理工作", "requirement": "集中公开现行有效规章。",
         "units": ["各街道办事处", "区党工委综合办公室", "区司法局"], "applies_to": ["portal"],
         "checks": ["regulations-column"]},
        {"number": 28, "group": "完善政务公开平台建设", "requirement": "完善政府网站集约化建设。",
         "units": ["各街道办事处", "区党工委综合办公室（牵头）", "区直相关单位按职责分工落实"],
         "applies_to": ["portal", "department", "street"], "checks": ["availability", "links"]},
        {"number": 32, "group": "完善政务公开平台建设", "requirement": "门户网站支持IPv6。",
         "units": ["区党工委综合办公室"], "applies_to": ["portal"], "checks": ["ipv6"]},
        {"number": 46, "group": "加强政务公开工作指导监督", "requirement": "定期组织培训。",
         "units": ["各街道办事处", "区党工委综合办公室"], "manual": True, "reason": "培训记录需人工核查"},
    ],
}
RULES = Rules.from_data(RULES_TABLES)   # typed, defaults applied as the loader does

SITES: dict[str, dict[str, Any]] = {
    "portal": {"id": "portal", "name": "红海湾经济开发区门户网站", "url": "http://www.hhw.gov.cn/",
               "unit": "区党工委综合办公室", "kind": "portal"},
    "sfj": {"id": "sfj", "name": "区司法局网站", "url": "http://sfj.hhw.gov.cn/", "unit": "区司法局",
            "kind": "department", "services": False},
    "dzjd": {"id": "dzjd", "name": "东洲街道办事处（门户网站栏目）", "url": "http://www.hhw.gov.cn/dzjd/",
             "unit": "东洲街道办事处", "kind": "street", "column_of": "portal"},
    "tqjd": {"id": "tqjd", "name": "田墘街道办事处网站", "url": "http://tq.hhw.gov.cn/",
             "unit": "田墘街道办事处", "kind": "street"},
}


def _broken(n: int, title: str = "办事指南") -> Finding:
    return Finding("links.broken", {"title": title, "status": 404}, url=f"http://www.hhw.gov.cn:8080/dead/{n}.html",
                   source_url="http://www.hhw.gov.cn/index.html", anchor=title)


def _results(run: int) -> dict[str, dict[str, CheckResult]]:
    portal_links = [_broken(1, FORMULA_TITLE), _broken(2, SCRIPT_TITLE)] + ([_broken(3)] if run == 1 else [_broken(4, "新闻")])
    ok = CheckResult(Outcome.PASS, "availability.ok", {"ratio": "100%"})
    return {
        "portal": {
            "availability": ok,
            "links": CheckResult(Outcome.FAIL, "links.some_broken", {"count": len(portal_links)},
                                 findings=portal_links),
            "regulations-column": CheckResult(Outcome.PASS, "regulations-column.ok"),
            "ipv6": CheckResult(Outcome.FAIL, "ipv6.fake", {"address": "2001:db8::1"},
                                findings=[Finding("ipv6.fake", {"address": "2001:db8::1"},
                                                  url="http://www.hhw.gov.cn/")]),
        },
        "sfj": {
            "availability": ok,
            "links": CheckResult(Outcome.PASS, "links.ok"),
            "ipv6": CheckResult(Outcome.ERROR, "ipv6.dns", {}),
        },
        "dzjd": {
            "availability": CheckResult(Outcome.NOT_APPLICABLE, "common.not_applicable", {"reason": "栏目"}),
            "links": CheckResult(Outcome.PASS, "links.ok"),
            "column-blank": CheckResult(
                Outcome.FAIL, "column-blank.many", {"count": 5}, veto=True,
                findings=[Finding("column-blank.blank", {"name": f"栏目{i}", "key": f"c{i}"},
                                  source_url="http://www.hhw.gov.cn/dzjd/") for i in range(5)]
                + [Finding("column-blank.blank", {"name": "说明"}, severity=Severity.INFO)]),
        },
        "tqjd": {
            "availability": CheckResult(Outcome.FAIL, "availability.down", {"ratio": "12%"}, veto=True,
                                        findings=[Finding("availability.down", {"ratio": "12%"},
                                                          url="http://tq.hhw.gov.cn/")])
            if run == 1 else ok,
            "links": CheckResult(Outcome.PASS, "links.ok"),
        },
    }


def store_run(store: Store, as_of: str, run: int, *, sites_path: str = "/etc/zwgk/sites.toml") -> int:
    """Store one judged, complete run the way the runner does; returns its id."""
    from zwgk.runner import fingerprint

    rid = store.begin_run(as_of=as_of, audit_name="红海湾经济开发区", sites_path=sites_path,
                          sites_toml='[audit]\nname = "红海湾经济开发区"\n', rules_toml="",
                          site_configs=SITES)
    rows = []
    for sid, checks in _results(run).items():
        for cid, res in checks.items():
            rows.append((sid, cid, str(res.outcome), res.veto, json.dumps(res.to_dict(), ensure_ascii=False),
                         [(fingerprint(cid, sid, f), f.message_id, str(f.severity), f.url,
                           json.dumps(f.to_dict(), ensure_ascii=False)) for f in res.findings]))
    store.replace_results(rid, rows)
    store.finish_run(rid, "complete", {"pages": 42})
    return rid


def sample_store(store: Store | None = None) -> tuple[Store, int, int]:
    """A store with the two sample runs: (store, first run id, second run id)."""
    store = store or Store(":memory:")
    r1 = store_run(store, "2026-03-02T02:00:00+08:00", 1)
    r2 = store_run(store, "2026-06-01T02:00:00+08:00", 2)
    return store, r1, r2
