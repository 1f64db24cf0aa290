"""Site identity (网站标识): footer elements, 网站标识码 consistency, domain rules.

Rule (docs/DOMAIN.md §3; 政府网站发展指引, 国办发〔2017〕47号, 网站标识 and 底部功能区; 国办秘函〔2019〕19号
功能设计 扣分 items 域名, 网站标识, "我为政府网站找错"): the footer shows the 党政机关网站标识
(a link to bszs.conac.cn, often injected by a script from dcs.conac.cn), 网站主办单位, 联系方式,
网站标识码, ICP备案编号 linked to beian.miit.gov.cn, and 公安机关备案号 linked to
www.beian.gov.cn with the same 14 digits. The 网站标识码 is 10 digits whose first 6 are the
行政区划代码 (or ``bm`` + 8 digits for central ministries) and must agree with
``<meta name="SiteIDCode">`` and the 找错 link's ``site_code``. Domains end in .gov.cn (or .政务);
department/street sites sit under the portal's domain (informational findings).

Footers injected entirely by JavaScript would look empty in stored HTML: a home page with almost
no visible text is "could not verify", not eleven missing elements.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from checks.base import Check, home_problem
from checks.links import norm_text, visible_text
from core.model import CheckResult, Finding, Outcome, Severity
from core.snapshot import SiteSnapshot

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_ICP = re.compile(rf"([{_PROVINCES}])\s*ICP\s*备\s*(\d{{6,10}})\s*号(?:\s*-\s*\d+)?", re.IGNORECASE)
_GA = re.compile(rf"[{_PROVINCES}]?\s*公网安备\s*(\d+)\s*号?")
_SITECODE = re.compile(r"(?:网站(?:标识|识别)码|标识码)\s*[:：]?\s*([A-Za-z]{0,2}\d{6,12})")
# Evidence that the footer is put in by the browser, not present in the HTML we read.
_FOOT_ID = re.compile(r"foot|bottom|dibu|copyright|banquan", re.IGNORECASE)
_INJECT = re.compile(r"\.load\s*\(|document\.write|innerHTML|\$\.(?:get|ajax)\s*\(|fetch\s*\(|XMLHttpRequest|"
                     r"include", re.IGNORECASE)
_HOST_ORG = re.compile(r"主\s*办\s*(?:单\s*位)?\s*[:：]")
_CONTACT = re.compile(r"(?:电\s*话|联系电话|联系方式|咨询电话|热线|Tel|邮\s*箱|E-?mail)\s*[:：]?\s*[\w(（]", re.IGNORECASE)
# a phone or an e-mail; the e-mail starts where a run of its characters starts (the leftmost match anyway):
# tried from inside a run too, 60,000 letters without an "@" took 14 s (each start scanned the rest of the run)
_PHONE = re.compile(r"(?:0\d{2,3}[-－ ]?)?\d{7,8}|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CODE_FORM = re.compile(r"^(?:\d{10}|bm\d{8})$")
# Footer markers: when none of them is in the HTML, the footer was not read (or is not there).
_MARKERS = (_ICP, _GA, _SITECODE, _HOST_ORG)

MESSAGES = {
    "site-identity.ok": "网站标识要素齐全，网站标识码{code}一致",
    "site-identity.fail": "网站标识存在问题：{problems}",
    "site-identity.unverified": "无法核验网站标识：{reason}",
    "site-identity.footer_injected": "首页网页源码中没有底部功能区内容，底部由{how}加载，无法核验网站标识",
    "site-identity.missing": "首页底部缺少{element}",
    "site-identity.icp_unlinked": "ICP备案编号{icp}未链接到工业和信息化部备案系统（beian.miit.gov.cn）",
    "site-identity.ga_unlinked": "公安机关备案号{code}未链接到全国互联网安全管理服务平台（www.beian.gov.cn）",
    "site-identity.ga_mismatch": "公安机关备案号{code}与其链接中的备案号{linked}不一致",
    "site-identity.code_malformed": "网站标识码{code}格式错误（应为10位数字或bm加8位数字）",
    "site-identity.code_region": "网站标识码{code}的区划代码与本地区（{region}）不符",
    "site-identity.code_mismatch": "网站标识码不一致：页面底部{footer}，网页元数据中的标识码{meta}，找错链接{jiucuo}",
    "site-identity.conac_id": "党政机关网站标识链接格式异常：{url}",
    "site-identity.domain_not_gov": "网站域名{host}不以.gov.cn结尾",
    "site-identity.domain_not_under_portal": "网站域名{host}不在门户网站域名{portal}之下",
}


def _region_prefix(region_code: str) -> str:
    """441500 → 4415: a city-level 行政区划代码 covers its counties (4415xx), so only the
    significant levels (2 digits each: province, city, county) must match."""
    code = region_code.strip()
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


@dataclass
class _Footer:
    """The home page's visible text, links and embedded sources, with same-site frames read in."""

    text: str
    hrefs: list[tuple[str, str]]                  # (href, anchor text)
    srcs: list[str]                               # src of scripts, images, frames
    frames_unread: list[str] = field(default_factory=list)


@dataclass
class _Problems:
    url: str                                      # the home page: findings cite it
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # short Chinese labels for the result

    def missing(self, element: str) -> None:
        self.findings.append(Finding("site-identity.missing", {"element": element, "key": element}, url=self.url,
                                     observed="未找到", expected=element))
        self.problems.append(f"缺少{element}")

    def add(self, finding: Finding, problem: str | None = None) -> None:
        self.findings.append(finding)
        if problem:
            self.problems.append(problem)


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    problem = home_problem(snap)
    if problem:
        return problem
    home = snap.home()
    assert home is not None
    doc = snap.tree(home)
    _, text = visible_text(snap.html(home))
    if doc is None or len(norm_text(text)) < int(params["min_text_chars"]):
        return CheckResult(Outcome.ERROR, "site-identity.unverified",
                           {"reason": f"首页可见文字过少（{len(norm_text(text))}字），页面可能由脚本生成"})
    foot = _read_footer(snap, home, doc, text)
    if not any(m.search(foot.text) for m in _MARKERS):
        how = _injected_footer(doc, foot.frames_unread)
        if how:
            return CheckResult(Outcome.ERROR, "site-identity.footer_injected", {"how": how},
                               metrics={"frames_unread": foot.frames_unread[:5]})
    out = _Problems(home.final_url or home.url)
    _conac_mark(foot, out)                            # 党政机关网站标识
    _host_and_contact(foot, out)                      # 网站主办单位, 联系方式
    icp = _icp(foot, out)                             # ICP备案编号 → beian.miit.gov.cn
    ga = _public_security(foot, params, out)          # 公安机关备案号 → www.beian.gov.cn
    code, meta_code, jiucuo_code = _site_code(snap, home, doc, foot, out)   # 网站标识码 in three places
    out.findings += _domain_findings(snap, params)
    metrics = {"site_code": code, "meta_code": meta_code, "jiucuo_code": jiucuo_code,
               "icp": icp.group(0) if icp else None, "ga": ga.group(1) if ga else None}
    if out.problems:
        return CheckResult(Outcome.FAIL, "site-identity.fail", {"problems": "；".join(out.problems)},
                           findings=out.findings, metrics=metrics)
    return CheckResult(Outcome.PASS, "site-identity.ok", {"code": code}, findings=out.findings, metrics=metrics)


def _read_footer(snap: SiteSnapshot, home: Any, doc: Any, text: str) -> _Footer:
    """The home page's text and links; a footer in an <iframe> of the same site is read from the
    stored frame page as part of the home page."""
    foot = _Footer(text, [(a.get("href") or "", a.text_content().strip()) for a in doc.iter("a")],
                   [el.get("src") or "" for el in doc.iter("script", "img", "iframe")])
    for el in doc.iter("iframe", "frame"):
        src = (el.get("src") or "").strip()
        if not src or src.startswith(("javascript:", "about:")):
            continue
        frame = _frame_page(snap, url_of(home), src)
        fdoc = snap.tree(frame) if frame is not None and frame.ok else None
        if fdoc is None:
            foot.frames_unread.append(src)
            continue
        foot.text += " " + visible_text(snap.html(frame))[1]
        foot.hrefs += [(a.get("href") or "", a.text_content().strip()) for a in fdoc.iter("a")]
        foot.srcs += [e.get("src") or "" for e in fdoc.iter("script", "img", "iframe")]
    return foot


def _conac_mark(foot: _Footer, out: _Problems) -> None:
    """党政机关网站标识: a conac.cn link or script; a bszs.conac.cn link carries a 32-hex id."""
    conac = [h for h, _ in foot.hrefs if "conac.cn" in h.lower()] + [s for s in foot.srcs if "conac.cn" in s.lower()]
    if not conac:
        out.missing("党政机关网站标识")
        return
    for h in (h for h, _ in foot.hrefs if "bszs.conac.cn" in h.lower()):
        ids = parse_qs(urlsplit(h).query).get("id", [""])
        if not re.fullmatch(r"[0-9A-Fa-f]{32}", ids[0]):
            out.add(Finding("site-identity.conac_id", {"url": h}, severity=Severity.WARN, url=h,
                            source_url=out.url, observed=ids[0] or "无id", expected="32位十六进制id"))


def _host_and_contact(foot: _Footer, out: _Problems) -> None:
    if not _HOST_ORG.search(foot.text) and "主办单位" not in foot.text:
        out.missing("网站主办单位")
    if not (_CONTACT.search(foot.text) and _PHONE.search(foot.text)) and not any("联系我们" in t for _, t in foot.hrefs):
        out.missing("联系方式")


def _icp(foot: _Footer, out: _Problems) -> re.Match[str] | None:
    """ICP备案编号, linked to beian.miit.gov.cn."""
    icp = _ICP.search(foot.text)
    if icp is None:
        out.missing("ICP备案编号")
    elif not any("beian.miit.gov.cn" in h.lower() for h, _ in foot.hrefs):
        out.add(Finding("site-identity.icp_unlinked", {"icp": icp.group(0)}, url=out.url, anchor=icp.group(0),
                        observed="无链接", expected="链接到 https://beian.miit.gov.cn/"), "ICP备案编号未链接")
    return icp


def _public_security(foot: _Footer, params: Mapping[str, Any], out: _Problems) -> re.Match[str] | None:
    """公安机关备案号 → www.beian.gov.cn/portal/registerSystemInfo?recordcode=<same 14 digits>."""
    ga = _GA.search(foot.text)
    if ga is None:
        out.missing("公安机关备案号")
        return None
    code = ga.group(1)
    linked = [parse_qs(urlsplit(h).query).get("recordcode", [""])[0] for h, _ in foot.hrefs
              if "beian.gov.cn" in h.lower() and "miit" not in h.lower()]
    if not linked:
        out.add(Finding("site-identity.ga_unlinked", {"code": code}, url=out.url, anchor=ga.group(0),
                        observed="无链接", expected="链接到 www.beian.gov.cn 备案信息"), "公安机关备案号未链接")
    elif code not in linked or len(code) != int(params["ga_digits"]):
        out.add(Finding("site-identity.ga_mismatch", {"code": code, "linked": "、".join(linked)},
                        url=out.url, anchor=ga.group(0), observed=f"{code} / {'、'.join(linked)}",
                        expected=f"{params['ga_digits']}位且与链接一致"), "公安机关备案号不一致")
    return ga


def _site_code(snap: SiteSnapshot, home: Any, doc: Any, foot: _Footer,
               out: _Problems) -> tuple[str | None, str | None, str | None]:
    """网站标识码 in the footer, the SiteIDCode meta and the 找错 link: present, well-formed, of this
    region, and the same in all three. Returns (the code, the meta's, the 找错 link's)."""
    m = _SITECODE.search(foot.text)
    footer_code = m.group(1) if m else None
    meta_code = (home.meta.get("SiteIDCode") or "").strip() or None
    if meta_code is None:
        metas = doc.xpath('//meta[translate(@name,"SITEIDCODE","siteidcode")="siteidcode"]/@content')
        meta_code = metas[0].strip() if metas else None
    jiucuo = [h for h, _ in foot.hrefs if "jiucuo" in h.lower() or "zfwzgl.www.gov.cn" in h.lower()]
    jiucuo_code = next((parse_qs(urlsplit(h).query).get("site_code", [None])[0] for h in jiucuo), None)
    if jiucuo_code is None:   # <script id="_jiucuo_" sitecode="…" src="…/exposure/jiucuo.js">
        jiucuo_code = next(((el.get("sitecode") or "").strip() or None for el in doc.iter("script")
                            if el.get("sitecode") and "jiucuo" in (el.get("src") or "").lower()), None)
    if not jiucuo and not any("jiucuo" in s.lower() or "zfwzgl" in s.lower() for s in foot.srcs):
        out.missing("“我为政府网站找错”入口")
    code = footer_code or meta_code or jiucuo_code
    if footer_code is None:
        out.missing("网站标识码")
    if not code:
        return code, meta_code, jiucuo_code
    if not _CODE_FORM.fullmatch(code):
        out.add(Finding("site-identity.code_malformed", {"code": code, "key": "code"}, url=out.url,
                        observed=code, expected="10位数字或bm+8位数字"), "网站标识码格式错误")
    region = str(snap.district.get("region_code") or "").strip()
    if region and code.isdigit() and not code.startswith(_region_prefix(region)):
        out.add(Finding("site-identity.code_region", {"code": code, "region": region, "key": "region"},
                        url=out.url, observed=code[:6], expected=f"{_region_prefix(region)}…"), "网站标识码区划不符")
    seen = {c for c in (footer_code, meta_code, jiucuo_code) if c}
    if len(seen) > 1:
        out.add(Finding("site-identity.code_mismatch", {
            "footer": footer_code or "无", "meta": meta_code or "无", "jiucuo": jiucuo_code or "无",
            "key": "mismatch"}, url=out.url, observed="、".join(sorted(seen)), expected="三处一致"), "网站标识码不一致")
    return code, meta_code, jiucuo_code


def url_of(row: Any) -> str:
    return str(row.final_url or row.url)


def _frame_page(snap: SiteSnapshot, base: str, src: str) -> Any:
    return snap.page(urljoin(base, src))


def _injected_footer(doc: Any, frames_unread: list[str]) -> str | None:
    """How the footer reaches the browser when it is not in the HTML: an unread <iframe>, a script
    filling an empty footer container or writing the page, a script named like a footer."""
    if frames_unread:
        return f"iframe（{frames_unread[0][:80]}）"
    empty_foot = any(_FOOT_ID.search(f"{el.get('id') or ''} {el.get('class') or ''}")
                     and not "".join(el.text_content().split())
                     for el in doc.iter("div", "footer", "section", "span", "td", "table", "p"))
    if empty_foot:
        return "脚本（空的底部容器）"
    script_src = next((el.get("src") for el in doc.iter("script")
                       if _FOOT_ID.search(urlsplit(el.get("src") or "").path)), None)
    if script_src:
        return f"脚本（{script_src[:80]}）"
    if any(_INJECT.search(el.text or "") for el in doc.iter("script") if not el.get("src")):
        return "脚本"
    return None


def _domain_findings(snap: SiteSnapshot, params: Mapping[str, Any]) -> list[Finding]:
    """Domain rules of the 发展指引 — informational: renaming a domain is not a footer fix."""
    host = snap.site.host
    out: list[Finding] = []
    if not any(host.endswith(s) for s in params["gov_suffixes"]):
        out.append(Finding("site-identity.domain_not_gov", {"host": host, "key": host}, severity=Severity.WARN,
                           url=snap.site.url, observed=host, expected="*.gov.cn"))
    if snap.site.kind != "portal":
        portal = next((s for s in snap.sites() if s.kind == "portal" and s.column_of is None), None)
        if portal is not None and portal.host:
            base = portal.host.removeprefix("www.")
            if host != base and not host.endswith("." + base):
                out.append(Finding("site-identity.domain_not_under_portal", {"host": host, "portal": base,
                                                                              "key": host},
                                   severity=Severity.WARN, url=snap.site.url, observed=host,
                                   expected=f"*.{base}"))
    return out


CHECKS: list[Check] = [
    Check(
        id="site-identity",
        title="网站标识与底部要素",
        judge=judge,
        messages=MESSAGES,
        defaults={"min_text_chars": 80, "ga_digits": 14, "gov_suffixes": [".gov.cn", ".政务", ".xn--zfr164b"]},
        own_site_only=True,
        needs=("pages",),
        doc="党政机关标识、主办单位、联系方式、网站标识码（格式/区划/三处一致）、ICP与公安备案号及链接、域名规则",
    ),
]
