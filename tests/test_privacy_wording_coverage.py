"""A large portal is read whole by privacy-leaks and wording-lexicon (rules.toml's ``max_pages``).

The site here has more pages than the checks' former cap (5,000): a leaked 居民身份证号 and a 错别字
placed on pages past that cap are found, a clean site of that size passes instead of 无法核验, and
pages over the (new) cap are still reported as not read, with their count. The checks are judged
through the runner with the repository's rules.toml, as ``zwgk audit`` judges them.
"""
from __future__ import annotations

from typing import Any

import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks import privacy, wording
from checks.readable import readable_documents
from core.model import Outcome
from core.snapshot import SiteSnapshot
from zwgk.rules import load_rules
from zwgk.runner import judge_one

BASE = "http://www.hhw.gov.cn/"
TODAY = "2026-11-27T09:00:00+08:00"
OLD_CAP = 5000
PAGES = OLD_CAP + 150          # articles, besides the home page


def gen_id(area: str, born: str, seq: str) -> str:
    body = area + born + seq
    w = [2 ** (17 - i) % 11 for i in range(17)]          # GB 11643 weights, derived not copied
    return body + "10X98765432"[sum(int(c) * k for c, k in zip(body, w, strict=True)) % 11]


ID = gen_id("441502", "19630512", "021")
LEAK_PAGE = f"{BASE}xw/{PAGES - 20:05d}.html"      # past the old cap in canonical (depth, URL) order
TYPO_PAGE = f"{BASE}xw/{PAGES - 10:05d}.html"


def _article(i: int) -> str:
    return (f"<html><head><title>工作动态{i}</title></head><body><h1>区政务服务中心召开第{i}次工作例会</h1>"
            f"<p>2026-0{1 + i % 9}-1{i % 10} 为进一步做好政务公开工作，会议对下一阶段工作作出部署。</p>"
            "<p>联系人：李四，咨询电话：0660-3388210。</p></body></html>")


def _site(*, leak: bool, typo: bool, extra: dict[str, Any] | None = None) -> SiteSnapshot:
    pages: dict[str, Any] = {BASE: Page("<html><head><title>首页</title></head><body><p>首页</p></body></html>",
                                        depth=0)}
    for i in range(1, PAGES + 1):
        pages[f"{BASE}xw/{i:05d}.html"] = Page(_article(i), depth=1, title=f"工作动态{i}")
    if leak:
        pages[LEAK_PAGE] = Page("<html><body><h1>2026年低保对象公示</h1><table><tr><th>姓名</th><th>身份证号码</th>"
                                f"<th>金额</th></tr><tr><td>张某某</td><td>{ID}</td><td>1200</td></tr></table></body></html>",
                                depth=1, title="2026年低保对象公示")
    if typo:
        pages[TYPO_PAGE] = Page("<html><body><p>请各单位认真布署落实。</p></body></html>", depth=1, title="通知")
    pages.update(extra or {})
    return make_snapshot(pages, site=site_config("portal", BASE), as_of=TODAY)


RULES = load_rules()


def _judge(snap: SiteSnapshot, check: Any) -> Any:
    return judge_one(check.CHECKS[0], snap, RULES)


@pytest.fixture(scope="module")
def leaky() -> SiteSnapshot:
    return _site(leak=True, typo=True)


@pytest.fixture(scope="module")
def clean() -> SiteSnapshot:
    return _site(leak=False, typo=False)


def test_rules_cap_covers_a_large_portal() -> None:
    for cid in ("privacy-leaks", "wording-lexicon"):
        assert RULES.check(cid).params["max_pages"] >= 20_000        # the benchmark's largest portal
    # one shared reading: both checks read the same pages
    assert RULES.check("privacy-leaks").params["max_pages"] == RULES.check("wording-lexicon").params["max_pages"]


def test_leak_and_typo_past_the_old_cap_are_found(leaky: SiteSnapshot) -> None:
    assert [f.url for f in leaky.pages()].index(LEAK_PAGE) >= OLD_CAP    # really past the old cap
    res = _judge(leaky, privacy)
    assert res.outcome == Outcome.MANUAL
    assert [f.url for f in res.findings] == [LEAK_PAGE]
    assert res.findings[0].message_id == "privacy-leaks.id" and ID not in str(res.findings[0].params)
    assert res.metrics["pages_read"] == PAGES + 1 and res.metrics["over_cap"] == 0
    words = _judge(leaky, wording)
    assert words.outcome == Outcome.MANUAL
    assert [(f.url, f.params["term"]) for f in words.findings] == [(TYPO_PAGE, "布署")]
    assert words.metrics["documents_read"] == PAGES + 1 and words.metrics["over_cap"] == 0


def test_the_old_cap_would_have_missed_them(leaky: SiteSnapshot) -> None:
    """The same site under the former cap: nothing found, and the unread pages counted (无法核验)."""
    capped = privacy.judge(leaky, {**RULES.check("privacy-leaks").params, "max_pages": OLD_CAP})
    assert capped.outcome == Outcome.ERROR and capped.message_id == "privacy-leaks.partial"
    assert f"{PAGES + 1 - OLD_CAP} 个超出核查上限未读取" in capped.params["unread"]
    words = wording.judge(leaky, {**RULES.check("wording-lexicon").params, "max_pages": OLD_CAP})
    assert words.outcome == Outcome.ERROR and f"{PAGES + 1 - OLD_CAP} 个超出核查上限" in words.params["unread"]


def test_clean_large_portal_passes_instead_of_could_not_verify(clean: SiteSnapshot) -> None:
    res = _judge(clean, privacy)
    assert res.outcome == Outcome.PASS and res.message_id == "privacy-leaks.none", res.params
    assert res.params["pages"] == PAGES + 1 and res.metrics["over_cap"] == 0
    words = _judge(clean, wording)
    assert words.outcome == Outcome.PASS and words.message_id == "wording-lexicon.none", words.params
    assert words.params["pages"] == PAGES + 1


def test_pages_over_the_rules_cap_are_still_could_not_verify(clean: SiteSnapshot) -> None:
    params = {**RULES.check("privacy-leaks").params, "max_pages": PAGES - 99}
    res = privacy.judge(clean, params)
    assert res.outcome == Outcome.ERROR and "100 个超出核查上限未读取" in res.params["unread"]
    assert res.metrics["pages_read"] == PAGES - 99 and res.metrics["over_cap"] == 100


def test_one_body_under_several_urls_is_read_once_and_found_on_each() -> None:
    table = (f"<html><body><table><tr><th>姓名</th><th>身份证号码</th></tr><tr><td>张某某</td><td>{ID}</td></tr>"
             "</table></body></html>")
    snap = make_snapshot({BASE: "<html><body><p>首页</p></body></html>",
                          f"{BASE}gs/a.html": Page(table, title="低保公示"),
                          f"{BASE}gs/a.html?print=1": Page(table, title="低保公示"),
                          f"{BASE}gs/b.html": Page(table, title="另一公示")},
                         site=site_config("portal", BASE), as_of=TODAY)
    before = snap.lookups["body"]
    res = privacy.judge(snap, privacy.DEFAULTS)
    assert sorted(f.url for f in res.findings) == [f"{BASE}gs/a.html", f"{BASE}gs/a.html?print=1", f"{BASE}gs/b.html"]
    # home + the shared body once for 低保公示 + once more under another title (a scan reads the title)
    assert snap.lookups["body"] - before == 3
    assert res.metrics["pages_read"] == 4


def test_a_scan_that_fails_fails_only_its_own_check(monkeypatch: pytest.MonkeyPatch) -> None:
    snap = make_snapshot({BASE: "<html><body><p>请各单位认真布署落实。</p></body></html>"},
                         site=site_config("portal", BASE), as_of=TODAY)

    def broken(*a: Any, **kw: Any) -> Any:
        raise ValueError("a page the detector did not foresee")

    monkeypatch.setattr(privacy, "detect", broken)
    assert _judge(snap, privacy).message_id == "common.crashed"
    words = _judge(snap, wording)
    assert words.outcome == Outcome.MANUAL and words.findings[0].params["term"] == "布署"


def test_the_reading_keeps_each_checks_candidates_not_the_pages_lines(leaky: SiteSnapshot) -> None:
    docs = readable_documents(leaky, 100_000, 2000)
    by_url = {r.url: r for r in docs.items}
    assert not hasattr(by_url[LEAK_PAGE], "doc")
    assert len(by_url[LEAK_PAGE].scan("privacy-leaks")) == 1 and by_url[TYPO_PAGE].scan("privacy-leaks") == []
    assert [t for text, _, found in by_url[TYPO_PAGE].scan("wording-lexicon") for t in (m.term for m in found)] == ["布署"]
