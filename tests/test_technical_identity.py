"""site-identity: footer elements, 网站标识码 (format, region, three places agree), 备案 links, domains."""
from __future__ import annotations

from typing import Any

import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks.base import params_for
from checks.identity import CHECKS, _region_prefix
from core.model import Outcome, Severity

CHECK = CHECKS[0]
HOME = "http://www.example.gov.cn/"
CONAC_ID = "0" * 8 + "a" * 24

PARTS = {
    "conac": f'<a href="https://bszs.conac.cn/sitename?method=show&id={CONAC_ID}"><img src="red.png"></a>',
    "host": "<span>主办单位：示例区人民政府办公室</span>",
    "contact": "<span>联系电话：0660-3312345</span>",
    "code": "<span>网站标识码：4415000001</span>",
    "icp": '<a href="https://beian.miit.gov.cn/">粤ICP备12345678号-1</a>',
    "ga": ('<a href="http://www.beian.gov.cn/portal/registerSystemInfo?recordcode=44150202000123">'
           "粤公网安备 44150202000123号</a>"),
    "jiucuo": '<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code=4415000001">我为政府网站找错</a>',
}
BODY = "<div class=main>" + "示例区人民政府门户网站 要闻动态 政务公开 办事服务 互动交流。" * 5 + "</div>"


def footer(**replace: str | None) -> str:
    parts = {**PARTS, **replace}
    return "<div class=footer>" + " ".join(v for v in parts.values() if v) + "</div>"


def judge(html: str, *, meta: str | None = "4415000001", site: dict[str, Any] | None = None,
          region: str | None = "441500", others: dict[str, Any] | None = None, status: int = 200):
    head = f'<meta name="SiteIDCode" content="{meta}">' if meta else ""
    page = Page(f"<html><head>{head}<title>示例区</title></head><body>{html}</body></html>", status=status,
                error_kind=None if status < 400 else "http_status")
    site = site or site_config(url=HOME)
    district = {"name": "测试区", "timezone": "Asia/Shanghai", **({"region_code": region} if region else {})}
    snap = make_snapshot({site["url"]: page}, site=site, district=district, other_sites=others)
    return CHECK.judge(snap, params_for(CHECK, {}))


def fail_ids(res) -> list[str]:
    return [f"{f.message_id}:{f.params.get('element', '')}".rstrip(":") for f in res.failing]


@pytest.mark.parametrize("html, kwargs, outcome, failing", [
    (BODY + footer(), {}, Outcome.PASS, []),
    (BODY + footer(conac=None), {}, Outcome.FAIL, ["site-identity.missing:党政机关网站标识"]),
    (BODY + footer(conac='<script src="https://dcs.conac.cn/js/33/000/0000/60000000/CA330000000000000000.js">'
                         "</script>"), {}, Outcome.PASS, []),
    (BODY + footer(host=None), {}, Outcome.FAIL, ["site-identity.missing:网站主办单位"]),
    (BODY + footer(host="<span>主办：示例区人民政府办公室</span>"), {}, Outcome.PASS, []),
    (BODY + footer(contact=None), {}, Outcome.FAIL, ["site-identity.missing:联系方式"]),
    (BODY + footer(contact='<a href="/lxwm/">联系我们</a>'), {}, Outcome.PASS, []),
    (BODY + footer(contact="<span>邮箱：ban@example.gov.cn</span>"), {}, Outcome.PASS, []),
    (BODY + footer(icp=None), {}, Outcome.FAIL, ["site-identity.missing:ICP备案编号"]),
    (BODY + footer(icp="<span>粤ICP备12345678号</span>"), {}, Outcome.FAIL, ["site-identity.icp_unlinked"]),
    (BODY + footer(ga=None), {}, Outcome.FAIL, ["site-identity.missing:公安机关备案号"]),
    (BODY + footer(ga="<span>粤公网安备 44150202000123号</span>"), {}, Outcome.FAIL, ["site-identity.ga_unlinked"]),
    (BODY + footer(ga=PARTS["ga"].replace("recordcode=44150202000123", "recordcode=44150202000999")), {},
     Outcome.FAIL, ["site-identity.ga_mismatch"]),
    (BODY + footer(ga=PARTS["ga"].replace("44150202000123", "4415020200012")), {}, Outcome.FAIL,
     ["site-identity.ga_mismatch"]),                                        # 13 digits
    (BODY + footer(code=None), {}, Outcome.FAIL, ["site-identity.missing:网站标识码"]),
    (BODY + footer(code="<span>网站标识码：441500001</span>"), {}, Outcome.FAIL,
     ["site-identity.code_malformed", "site-identity.code_mismatch"]),
    (BODY + footer(), {"region": "440300"}, Outcome.FAIL, ["site-identity.code_region"]),
    (BODY + footer(), {"region": "441502"}, Outcome.FAIL, ["site-identity.code_region"]),
    (BODY + footer(), {"region": None}, Outcome.PASS, []),
    (BODY + footer(), {"meta": "4415000002"}, Outcome.FAIL, ["site-identity.code_mismatch"]),
    (BODY + footer(), {"meta": None}, Outcome.PASS, []),
    (BODY + footer(jiucuo=PARTS["jiucuo"].replace("4415000001", "4415000009")), {}, Outcome.FAIL,
     ["site-identity.code_mismatch"]),
    (BODY + footer(jiucuo=None), {}, Outcome.FAIL, ["site-identity.missing:“我为政府网站找错”入口"]),
    (BODY + footer(jiucuo='<script src="https://zfwzgl.www.gov.cn/exposure/jiucuo.js?site_code=4415000001">'
                          "</script>"), {}, Outcome.PASS, []),
    (BODY + footer(code="<span>网站标识码：bm12000001</span>"), {"meta": "bm12000001"}, Outcome.FAIL,
     ["site-identity.code_mismatch"]),                                      # jiucuo still says 4415000001
], ids=["complete", "no-conac", "conac-by-script", "no-host-org", "host-org-short-form", "no-contact",
        "contact-us-link", "contact-email", "no-icp", "icp-unlinked", "no-ga", "ga-unlinked", "ga-link-other-digits",
        "ga-13-digits", "no-site-code", "site-code-9-digits", "region-other-city", "region-other-county",
        "no-region-configured", "meta-disagrees", "meta-absent", "jiucuo-disagrees", "no-jiucuo", "jiucuo-by-script",
        "ministry-code-vs-jiucuo"])
def test_identity(html, kwargs, outcome, failing) -> None:
    res = judge(html, **kwargs)
    assert res.outcome is outcome, (res.message_id, res.params)
    assert fail_ids(res) == failing


def test_script_rendered_home_cannot_be_verified() -> None:
    res = judge('<div id="app"></div><script src="/app.js"></script>')
    assert (res.outcome, res.message_id) == (Outcome.ERROR, "site-identity.unverified")


def test_failed_home_cannot_be_verified() -> None:
    res = judge(BODY + footer(), status=503)
    assert (res.outcome, res.message_id) == (Outcome.ERROR, "common.no_home")


@pytest.mark.parametrize("url, kind, warnings", [
    ("http://www.example.gov.cn/", "portal", []),
    ("http://www.example.com.cn/", "portal", ["site-identity.domain_not_gov"]),
    ("http://czj.example.gov.cn/", "department", []),
    ("http://czj-example.gov.cn/", "department", ["site-identity.domain_not_under_portal"]),
    ("http://czj.example.net/", "department", ["site-identity.domain_not_gov",
                                               "site-identity.domain_not_under_portal"]),
], ids=["portal-gov-cn", "portal-not-gov", "dept-under-portal", "dept-own-domain", "dept-not-gov"])
def test_domain_rules_are_informational(url, kind, warnings) -> None:
    portal = site_config("portal", "http://www.example.gov.cn/")
    others = {"portal": (portal, {})} if kind != "portal" else None
    res = judge(BODY + footer(), site=site_config("s1", url, kind=kind), others=others)
    assert res.outcome is Outcome.PASS
    assert [f.message_id for f in res.findings if f.severity is Severity.WARN] == warnings


@pytest.mark.parametrize("region, prefix", [("441500", "4415"), ("441502", "441502"), ("440000", "44")])
def test_region_prefix(region, prefix) -> None:
    assert _region_prefix(region) == prefix
