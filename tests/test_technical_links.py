"""links (链接可用性, soft 404, blocked ≠ broken) and external-links (外链变异 veto)."""
from __future__ import annotations

from typing import Any

import pytest
from testkit.snapshots import Page, make_snapshot, repo_rules

from checks.base import params_for
from checks.links import CHECKS, similarity
from core.model import Outcome, Severity
from core.store import FetchRow, LinkRow

LINKS, EXTERNAL = CHECKS
HOME = "http://www.example.gov.cn/"
INNER = HOME + "zwgk/index.html"
TEMPLATE = ("<html><head><title>{title}</title></head><body><div class=nav>首页 政务公开 办事服务 互动交流</div>"
            "<div class=main>{main}</div><div class=footer>主办单位：示例区人民政府办公室</div></body></html>")
ARTICLE = TEMPLATE.format(title="关于做好2026年政务公开工作的通知", main="各街道办事处、区直各单位：" + "现将有关事项通知如下。" * 60)
NOT_FOUND = TEMPLATE.format(title="提示信息", main="抱歉，您访问的页面不存在或已被删除！")
RANDOM_PATH = TEMPLATE.format(title="示例区人民政府", main="欢迎访问 示例区人民政府 网站 请从首页进入")
LONG_MENTION = TEMPLATE.format(title="网站常见问题解答", main="问：为什么提示页面不存在？答：链接已调整。" + "网站改版说明。" * 600)


def params(check, **overrides: Any) -> dict[str, Any]:
    return params_for(check, {**repo_rules()["checks"][check.id], **overrides})


def links_site(target: str, page: Page | None, *, source: str = HOME, soft404: Page | None = None,
               extra_pages: dict[str, Page | str] | None = None, extra_links: list[LinkRow] | None = None,
               recheck: Page | None | str = "same"):
    """``recheck``: the second attempt the crawler makes of a transient failure ("same": the first
    failure reproduces; None: no second attempt was stored)."""
    pages: dict[str, Page | str] = {HOME: TEMPLATE.format(title="首页", main="要闻"), INNER: ARTICLE,
                                    HOME + "ok.html": ARTICLE}
    if page is not None:
        pages[target] = page
    pages[HOME + "zwgk-random-8f3a.html"] = soft404 or Page(body="Not Found", status=404, purpose="soft404",
                                                          error_kind="http_status")
    pages.update(extra_pages or {})
    links = [LinkRow(HOME, INNER, "政务公开", "nav", "a"), LinkRow(HOME, HOME + "ok.html", "通知", "body", "a"),
             LinkRow(source, target, "目标链接", "body", "a"), *(extra_links or [])]
    snap = make_snapshot(pages, links=links)
    second = page if recheck == "same" else recheck
    if page is not None and isinstance(second, Page) and _transient(page):
        add_attempt(snap, target, second)
    return LINKS.judge(snap, params(LINKS))


def _transient(p: Page) -> bool:
    return p.error_kind in ("timeout", "connect") or (p.error_kind == "http_status" and p.status >= 500)


def add_attempt(snap: Any, url: str, p: Page) -> None:
    """Store the crawler's second attempt of ``url`` (crawler/recheck.py), before the snapshot reads rows."""
    raw = p.body.encode() if isinstance(p.body, str) else p.body
    store = snap.run.store
    store.add_fetch(FetchRow(snap.run.run_id, snap.site.id, p.purpose, url, final_url=url, status=p.status,
                             error_kind=p.error_kind, content_type=p.content_type, encoding="utf-8",
                             body_hash=store.save_body(raw) if raw else None, extra={**p.extra, "attempt": 2}))


T = HOME + "zwgk/target.html"


@pytest.mark.parametrize("target, page, source, soft404, outcome, message", [
    (T, Page(ARTICLE), HOME, None, Outcome.PASS, None),
    (T, Page("Not Found", status=404, error_kind="http_status"), HOME, None, Outcome.FAIL, "links.broken_home"),
    (T, Page("Not Found", status=404, error_kind="http_status"), INNER, None, Outcome.FAIL, "links.broken"),
    (T, Page("err", status=500, error_kind="http_status"), INNER, None, Outcome.FAIL, "links.broken"),
    (T, Page("", status=None, error_kind="timeout", purpose="link"), HOME, None, Outcome.FAIL, "links.broken_home"),
    (T, Page("Forbidden", status=403, error_kind="blocked"), HOME, None, Outcome.PASS, "links.blocked"),
    (T, Page("", status=412, error_kind="blocked"), HOME, None, Outcome.PASS, "links.blocked"),
    (T, Page("", status=429, error_kind="blocked"), HOME, None, Outcome.PASS, "links.blocked"),
    (T, Page("<script>challenge()</script>", status=200, error_kind="blocked"), HOME, None, Outcome.PASS,
     "links.blocked"),
    (T, Page("", status=403), HOME, None, Outcome.PASS, "links.blocked"),        # status alone also counts
    (T, Page(NOT_FOUND), HOME, None, Outcome.FAIL, "links.broken_home"),        # soft 404 by phrase
    (T, Page(RANDOM_PATH), INNER, Page(RANDOM_PATH, purpose="soft404"), Outcome.FAIL, "links.broken"),
    (T, Page(ARTICLE), INNER, Page(RANDOM_PATH, purpose="soft404"), Outcome.PASS, None),
    (T, Page(LONG_MENTION), HOME, None, Outcome.PASS, None),                   # a long page quoting the phrase
    (T, Page("", title="404 Not Found", purpose="link"), HOME, None, Outcome.FAIL, "links.broken_home"),
    (T, None, HOME, None, Outcome.PASS, None),                                 # beyond caps: not checked
    (T, Page("", status=None, error_kind="disallowed"), HOME, None, Outcome.PASS, None),
    (HOME + "files/report.pdf", Page("", status=404, error_kind="http_status", purpose="attachment",
                                     content_type="application/pdf"), INNER, None, Outcome.FAIL, "links.broken"),
    (HOME + "files/report.pdf", Page(b"%PDF-1.4", purpose="attachment", content_type="application/pdf"), INNER,
     None, Outcome.PASS, None),
    ("http://www.partner.com/", Page("", status=None, error_kind="dns", error_detail="www.partner.com: nxdomain",
                                     purpose="external"), HOME, None, Outcome.FAIL, "links.broken_home"),
    ("http://www.partner.com/", Page("", status=None, error_kind="dns", error_detail="www.partner.com: noanswer",
                                     purpose="external"), HOME, None, Outcome.FAIL, "links.broken_home"),
    # issue 12: a resolver's refusal, failure or silence (or an unknown DNS error) is not a dead domain
    ("http://www.partner.com/", Page("", status=None, error_kind="dns", error_detail="www.partner.com: refused",
                                     purpose="external"), HOME, None, Outcome.PASS, "links.dns_unverified"),
    ("http://www.partner.com/", Page("", status=None, error_kind="dns", error_detail="www.partner.com: servfail",
                                     purpose="external"), HOME, None, Outcome.PASS, "links.dns_unverified"),
    ("http://www.partner.com/", Page("", status=None, error_kind="dns", error_detail="www.partner.com: timeout",
                                     purpose="external"), HOME, None, Outcome.PASS, "links.dns_unverified"),
    ("http://www.partner.com/", Page("", status=None, error_kind="dns", purpose="external"), HOME, None,
     Outcome.PASS, "links.dns_unverified"),
], ids=["ok", "404-home", "404-inner", "500-inner", "timeout", "403-blocked", "412-blocked", "429-blocked",
        "js-challenge-blocked", "403-status-only", "soft404-phrase", "soft404-same-as-random-path",
        "article-unlike-random-path", "long-page-quoting-phrase", "soft404-title-of-unstored-body",
        "not-fetched", "robots-disallowed", "attachment-404", "attachment-ok", "external-nxdomain",
        "external-nodata", "external-dns-refused", "external-dns-servfail", "external-dns-timeout",
        "external-dns-unknown"])
def test_link_states(target, page, source, soft404, outcome, message) -> None:
    res = links_site(target, page, source=source, soft404=soft404)
    assert res.outcome is outcome, (res.message_id, res.params)
    mids = [f.message_id for f in res.findings]
    assert mids == ([message] if message else [])
    if message and message.startswith("links.broken"):
        f = res.findings[0]
        assert (f.url, f.source_url, f.anchor, f.severity) == (target, source, "目标链接", Severity.FAIL)
    if message == "links.blocked":
        assert res.findings[0].severity is Severity.WARN and res.metrics["blocked"] == 1


@pytest.mark.parametrize("first", [Page("", status=None, error_kind="timeout", purpose="link"),
                                   Page("", status=None, error_kind="connect", purpose="link"),
                                   Page("err", status=503, error_kind="http_status", purpose="link")],
                         ids=["timeout", "connect", "503"])
def test_one_off_failure_is_information_not_a_finding(first: Page) -> None:
    res = links_site(T, first, source=HOME, recheck=Page(ARTICLE, purpose="link"))
    assert res.outcome is Outcome.PASS, (res.message_id, res.params)
    (f,) = res.findings
    assert f.message_id == "links.transient" and f.severity is Severity.INFO and f.url == T
    assert "复核：正常" in f.observed and res.metrics["not_reproduced"] == 1 and res.metrics["broken"] == 0


def test_reproduced_failure_is_a_finding_showing_both_attempts() -> None:
    res = links_site(T, Page("", status=None, error_kind="timeout", purpose="link"), source=HOME,
                     recheck=Page("", status=None, error_kind="connect", purpose="link"))
    assert res.outcome is Outcome.FAIL
    (f,) = res.findings
    assert f.message_id == "links.broken_home" and f.params["reason"] == "超时；复核仍无法连接"


def test_failure_never_rechecked_is_not_blamed() -> None:
    res = links_site(T, Page("", status=None, error_kind="timeout", purpose="link"), source=HOME, recheck=None)
    assert res.outcome is Outcome.PASS and res.metrics["broken"] == 0
    assert "未复核" in res.metrics["unchecked_hosts"]["www.example.gov.cn"]


@pytest.mark.parametrize("kind", ["bad_url", "bad_redirect", "internal"])
def test_unrequestable_targets_are_unchecked_not_broken(kind: str) -> None:
    res = links_site(T, Page("", status=None, error_kind=kind, purpose="link"), source=HOME)
    assert res.outcome is Outcome.PASS and res.metrics["broken"] == 0 and res.metrics["unchecked"] == 1


def test_redirect_loop_is_named_a_loop() -> None:
    from checks.links import classify
    from core.store import FetchRow as Row

    row = Row(1, "s1", "link", T, error_kind="too_many_redirects", error_detail=f"redirect loop back to {T}")
    assert classify(row) == ("broken", "重定向循环")


def test_counts_home_and_other_pages_separately_and_dedups_targets() -> None:
    dead = HOME + "dead.html"
    res = links_site(T, Page("x", status=404, error_kind="http_status"), source=HOME,
                     extra_pages={dead: Page("x", status=404, error_kind="http_status")},
                     extra_links=[LinkRow(INNER, T, "又一处", "body", "a"), LinkRow(INNER, dead, "失效", "body", "a"),
                                  LinkRow(HOME + "ok.html", dead, "失效", "body", "a")])
    assert (res.params["home"], res.params["other"]) == (1, 1)
    other = next(f for f in res.findings if f.message_id == "links.broken")
    assert other.params["pages"] == 2 and other.url == dead
    home = next(f for f in res.findings if f.message_id == "links.broken_home")
    assert home.source_url == HOME and home.params["pages"] == 2


def test_home_page_is_never_a_soft_404_of_itself() -> None:
    # Some CMSs answer every unknown path with the home page: the link to the home page stays fine.
    home_html = TEMPLATE.format(title="首页", main="要闻")
    res = links_site(HOME, None, source=INNER, soft404=Page(home_html, purpose="soft404"))
    assert res.outcome is Outcome.PASS and res.metrics["broken"] == 0


def test_mostly_blocked_site_cannot_be_verified() -> None:
    blocked = {HOME + f"b{i}.html": Page("", status=403, error_kind="blocked") for i in range(5)}
    res = links_site(T, Page(ARTICLE), extra_pages=blocked,
                     extra_links=[LinkRow(HOME, u, "b", "body", "a") for u in blocked])
    assert (res.outcome, res.message_id) == (Outcome.ERROR, "links.mostly_blocked")


def test_no_fetched_targets_is_an_error_not_a_pass() -> None:
    snap = make_snapshot({HOME: "<p>home</p>"}, links=[LinkRow(HOME, HOME + "x.html", "x", "body", "a")])
    res = LINKS.judge(snap, params(LINKS))
    assert (res.outcome, res.message_id) == (Outcome.ERROR, "links.none_checked")


@pytest.mark.parametrize("a, b, expected", [
    ("访问量：12345 示例区人民政府", "访问量：67890 示例区人民政府", 1.0),
    ("", "", 1.0),
    ("示例区人民政府欢迎您", "Welcome to nginx", 0.0),
], ids=["digits-normalised", "both-empty", "unrelated"])
def test_similarity(a, b, expected) -> None:
    assert similarity(a, b) == pytest.approx(expected)


# -- external-links (外链变异) -------------------------------------------------------------------

GAMBLING = "<html><head><title>{title}</title></head><body>{body}</body></html>"


def external_site(url: str, body: str | None, *, status: int = 200):
    pages: dict[str, Page | str] = {HOME: TEMPLATE.format(title="首页", main="友情链接")}
    if body is not None:
        pages[url] = Page(body, status=status, purpose="external")
    snap = make_snapshot(pages, links=[LinkRow(HOME, url, "友情链接：某协会", "footer", "a")])
    return EXTERNAL.judge(snap, params(EXTERNAL))


@pytest.mark.parametrize("url, title, body, outcome, veto, finding", [
    ("http://www.old-partner.com/", "澳门葡京", "百家乐 真人娱乐 注册送彩金", Outcome.FAIL, True,
     "external-links.mutated"),
    ("http://www.old-partner.com/", "某行业协会", "百家乐 真人娱乐 时时彩", Outcome.FAIL, True, "external-links.mutated"),
    ("http://www.old-partner.com/", "太阳城娱乐", "首存优惠", Outcome.FAIL, True, "external-links.mutated"),
    ("http://www.old-partner.com/", "某行业协会", "本会严厉打击赌球和网上赌博", Outcome.PASS, False,
     "external-links.suspect"),
    ("http://www.old-partner.com/", "某行业协会", "会员服务 行业动态", Outcome.PASS, False, None),
    ("http://www.gd.gov.cn/", "广东省人民政府", "严厉打击百家乐 博彩 赌场 网上赌", Outcome.PASS, False, None),
], ids=["gambling-site", "three-words-no-title", "title-plus-one", "anti-gambling-news-two-words",
        "clean-partner", "gov-site-reporting-crackdown"])
def test_external_mutation(url, title, body, outcome, veto, finding) -> None:
    res = external_site(url, GAMBLING.format(title=title, body=body))
    assert (res.outcome, res.veto) == (outcome, veto)
    assert [f.message_id for f in res.findings] == ([finding] if finding else [])
    if finding:
        f = res.findings[0]
        assert f.source_url == HOME and f.anchor == "友情链接：某协会" and f.params["words"]


def test_external_links_not_fetched_cannot_be_verified() -> None:
    res = external_site("http://www.old-partner.com/", None)
    assert (res.outcome, res.veto, res.message_id) == (Outcome.ERROR, False, "external-links.unchecked")


def test_site_without_outbound_links_passes() -> None:
    snap = make_snapshot({HOME: "<p>home</p>"}, links=[LinkRow(HOME, HOME + "a.html", "a", "body", "a")])
    res = EXTERNAL.judge(snap, params(EXTERNAL))
    assert (res.outcome, res.message_id) == (Outcome.PASS, "external-links.none")


REGISTRY = "https://bszs.conac.cn/sitename?method=show&id=0A3F9C12B7E84D56A1C2D3E4F5061728"


@pytest.mark.parametrize("page, unchecked", [
    pytest.param(None, True, id="no-fetch-at-all"),
    pytest.param(Page("", status=None, error_kind="skipped", purpose="external"), True, id="skip-hosts"),
    pytest.param(Page("", status=None, error_kind="refused", purpose="external"), True, id="ssrf-refused"),
    pytest.param(Page("", status=None, error_kind="disallowed", purpose="external"), True, id="robots"),
    pytest.param(Page("", status=None, purpose="external", extra={"skipped": True}), True, id="skipped-flag"),
    pytest.param(Page("", status=None, error_kind="some_new_kind", purpose="external"), True, id="unknown-kind"),
    pytest.param(Page("", status=None, error_kind="dns", error_detail="bszs.conac.cn: nxdomain", purpose="external"),
                 False, id="checked-dns-nxdomain"),
])
def test_targets_the_crawler_did_not_request_are_unchecked_never_broken(page, unchecked) -> None:
    """Footer links to national registries (bszs.conac.cn, beian.miit.gov.cn …) on a [crawl] skip_hosts
    list are not re-checked on every audit: "not checked", never a broken home-page link."""
    res = links_site(REGISTRY, page, source=HOME)
    assert (res.outcome is Outcome.PASS) is unchecked, (res.message_id, res.params)
    if unchecked:
        assert res.metrics["unchecked"] == 1 and not res.findings
        assert "bszs.conac.cn" in res.metrics["unchecked_hosts"]
    else:
        assert [f.message_id for f in res.findings] == ["links.broken_home"]


@pytest.mark.parametrize("target", [
    pytest.param("https://bszs.conac.cn/sitename?method=show&id=0A3F", id="conac-identity"),
    pytest.param("https://beian.miit.gov.cn/", id="icp-registry"),
    pytest.param("http://www.shanwei.gov.cn/", id="city-portal"),
])
def test_only_government_links_out_is_a_pass_not_unverifiable(target: str) -> None:
    """Footer registry links are not fetched (skip_hosts) and cannot mutate: nothing to verify."""
    snap = make_snapshot({HOME: "<p>home</p>"}, links=[LinkRow(HOME, target, "备案", "footer", "a")])
    res = EXTERNAL.judge(snap, params(EXTERNAL))
    assert res.outcome is Outcome.PASS, (res.message_id, res.params)


def _with_selfcheck(rows: list[tuple[str, str, bool, str]], target: str, page: Page):
    """links judged on a run whose auditor self-check stored ``rows`` (kind, target, ok, detail)."""
    from core.snapshot import RunView

    pages: dict[str, Page | str] = {HOME: TEMPLATE.format(title="首页", main="要闻"), HOME + "ok.html": ARTICLE,
                                    target: page}
    links = [LinkRow(HOME, HOME + "ok.html", "通知", "body", "a"), LinkRow(HOME, target, "目标链接", "body", "a")]
    snap = make_snapshot(pages, links=links)
    for kind, tgt, ok, detail in rows:
        snap.run.store.add_selfcheck(snap.run.run_id, kind, tgt, ok, detail, 1.0)
    view = RunView(snap.run.store, snap.run.run_id, district=snap.district, vocabulary=snap.vocabulary)
    return LINKS.judge(view.snapshot(snap.site.id), params(LINKS))


DNS_BAD = [("dns", "www.gov.cn", False, "nxdomain (NXDOMAIN)"), ("dns", "www.baidu.com", False, "refused (REFUSED)")]
DNS_OK = [("dns", "www.gov.cn", True, "1.2.3.4")]
NX = Page("", status=None, error_kind="dns", error_detail="www.partner.com: nxdomain", purpose="external")


@pytest.mark.parametrize("rows, outcome, message", [
    (DNS_OK, Outcome.FAIL, "links.broken_home"),        # our resolver works: NXDOMAIN is a dead name
    (DNS_BAD, Outcome.PASS, "links.auditor_unverified"),  # an intranet resolver: the link is not checked
    ([], Outcome.FAIL, "links.broken_home"),            # no self-check stored (older run): as before
], ids=["resolver-ok", "resolver-cannot-answer-outside", "no-selfcheck"])
def test_external_links_are_not_blamed_on_the_auditors_resolver(rows, outcome, message) -> None:
    res = _with_selfcheck(rows, "http://www.partner.com/", NX)
    assert res.outcome is outcome, (res.message_id, res.params)
    assert [f.message_id for f in res.findings] == [message]
    if message == "links.auditor_unverified":
        assert "核查方DNS无法解析外部域名" in res.findings[0].params["reason"]
