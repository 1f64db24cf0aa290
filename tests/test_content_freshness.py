"""Home-page freshness (单项否决 首页不更新) and forged-date review (国办秘函〔2019〕19号, DOMAIN.md §2, §3)."""
from __future__ import annotations

import pytest
from testkit.snapshots import Page, make_snapshot, repo_rules, site_config

from checks.base import params_for
from checks.freshness import CHECKS
from core.model import Outcome

H = "http://www.example.gov.cn/"
BY_ID = {c.id: c for c in CHECKS}
NAV = "<ul class='nav'><li><a href='/xw/'>新闻中心</a></li><li><a href='/zwgk/'>政务公开</a></li></ul>"


def news(*dates: str | None, prefix: str = "n") -> str:
    lis = "".join(f"<li><a href='/{prefix}/{i}.html'>测试区召开第{i}次全区重点工作推进会议</a>"
                  f"{f'<span>{d}</span>' if d else ''}</li>" for i, d in enumerate(dates))
    return f"<html><body>{NAV}<div class='news'><ul>{lis}</ul></div></body></html>"


def run(check_id: str, pages: dict[str, str | Page]):
    snap = make_snapshot(pages, site=site_config(url=H))
    check = BY_ID[check_id]
    return check.judge(snap, params_for(check, repo_rules().get("checks", {}).get(check_id)))


@pytest.mark.parametrize("newest,fresh", [("2026-06-01", True), ("2026-05-31", False), ("2026-06-15", True)],
                         ids=["exactly-2-weeks", "2-weeks-plus-1-day", "today"])
def test_home_two_week_edge(newest: str, fresh: bool) -> None:
    res = run("homepage-freshness", {H: news(newest, "2026-01-01")})
    assert res.outcome == (Outcome.PASS if fresh else Outcome.FAIL)
    assert res.veto is (not fresh)
    if not fresh:
        f = res.failing[0]
        assert f.params["newest_date"] == newest and f.params["threshold"] == "2026-06-01" and f.url == H


ARTICLE = "<html><head>{meta}</head><body><h1>会议</h1>{text}</body></html>"


@pytest.mark.parametrize("articles, outcome, message", [
    pytest.param({}, Outcome.ERROR, "homepage-freshness.articles_unread", id="articles-not-stored-cannot-verify"),
    pytest.param({"n/0.html": ARTICLE.format(meta="", text="<p>正文</p>")}, Outcome.FAIL,
                 "homepage-freshness.undated", id="article-without-any-date-counts-as-not-updated"),
    pytest.param({"n/0.html": ARTICLE.format(meta='<meta name="PubDate" content="2026-06-10 09:30">', text="")},
                 Outcome.PASS, "homepage-freshness.fresh", id="pubdate-meta-of-the-article"),
    pytest.param({"n/1.html": ARTICLE.format(meta="", text="<p>发布时间：2026-03-01 10:20</p>")}, Outcome.FAIL,
                 "homepage-freshness.stale", id="labelled-date-on-the-article-is-old"),
])
def test_home_items_without_dates_use_their_article_pages(articles: dict[str, str], outcome: Outcome,
                                                          message: str) -> None:
    """Titles listed without dates: the rubric's "no visible date" is judged on the article pages."""
    pages: dict[str, str | Page] = {H: news(None, None, None), **{H + k: v for k, v in articles.items()}}
    res = run("homepage-freshness", pages)
    assert (res.outcome, res.message_id) == (outcome, message)
    assert res.veto is (outcome == Outcome.FAIL)


def test_home_future_date_is_not_fresh() -> None:
    res = run("homepage-freshness", {H: news("2026-12-01", "2026-03-01")})
    assert res.outcome == Outcome.FAIL and res.params["newest_date"] == "2026-03-01"


NAV_ONLY = f"<html><body><div class='portal'>{NAV}</div><img src='/banner.jpg'></body></html>"


@pytest.mark.parametrize("second,outcome", [
    (news("2026-06-10", prefix="xw"), Outcome.PASS),
    (news("2026-04-01", prefix="xw"), Outcome.FAIL),
], ids=["second-level-fresh", "second-level-stale"])
def test_nav_only_home_judged_by_second_level(second: str, outcome: Outcome) -> None:
    res = run("homepage-freshness", {H: NAV_ONLY, H + "xw/": Page(body=second, parent_url=H),
                                     H + "zwgk/": Page(body="<html><body>政务公开</body></html>", parent_url=H)})
    assert res.outcome == outcome
    assert res.params["page"] == H + "xw/"
    assert res.veto is (outcome == Outcome.FAIL)


def test_nav_only_home_without_second_level_pages_is_unverifiable() -> None:
    assert run("homepage-freshness", {H: NAV_ONLY}).outcome == Outcome.ERROR


def test_script_rendered_home_is_not_judged_undated() -> None:
    html = "<html><body><div id='app'></div><script>$.ajax({url: '/api/news'});</script></body></html>"
    assert run("homepage-freshness", {H: html}).outcome == Outcome.ERROR


# -- forged dates ----------------------------------------------------------------------------------

HOME = "<html><body><ul class='nav'><li><a href='/tzgg/'>通知公告</a></li></ul></body></html>"


def article(pub: str, visible: str) -> Page:
    return Page(body=f"<html><body><h1>关于某事项的通知</h1><p>发布时间：{visible}</p><p>正文内容</p></body></html>",
                meta={"PubDate": pub, "ArticleTitle": "关于某事项的通知"})


@pytest.mark.parametrize("list_date,pub,visible,flags", [
    ("2026-06-01", "2026-06-01 09:00", "2026-06-01 09:00", []),
    ("2026-09-01", "2026-06-01 09:00", "2026-06-01", ["forged-dates.future", "forged-dates.mismatch_list"]),
    ("2026-06-01", "2026-06-01 09:00", "2026-05-01", ["forged-dates.mismatch_page"]),
    ("2026-06-01", "2026-06-02 09:00", "2026-06-01", []),          # within the 1-day tolerance
    ("2026-06-01", "2026-07-01 09:00", "2026-07-01", ["forged-dates.future_pubdate", "forged-dates.mismatch_list"]),
], ids=["consistent", "future-in-list", "pubdate-vs-page", "tolerance", "future-pubdate"])
def test_forged_dates(list_date: str, pub: str, visible: str, flags: list[str]) -> None:
    col = (f"<html><body><ul><li><a href='/tzgg/t1.html'>关于某事项的通知公告全文</a><span>{list_date}</span></li>"
           f"<li><a href='/tzgg/t2.html'>关于另一事项的通知公告全文</a><span>2026-05-01</span></li></ul></body></html>")
    res = run("forged-dates", {H: HOME, H + "tzgg/": col, H + "tzgg/t1.html": article(pub, visible)})
    assert sorted(f.message_id for f in res.findings) == sorted(flags)
    assert res.outcome == (Outcome.MANUAL if flags else Outcome.PASS)
    assert all(f.url == H + "tzgg/t1.html" for f in res.findings)
