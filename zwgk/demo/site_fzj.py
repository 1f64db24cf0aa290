"""区发展和财政局 fzj.hhw.gov.cn: Guangdong gkmlpt-style 信息公开目录 rendered from a JSON API.

The 信息公开目录 page's list container is empty in the HTML; its own script fetches
/gkmlpt/api/all/<category>?page=1&sid=<SID>, a URL the page never spells out (the site id is in an
inline config, the category in the URL fragment; items with epoch-second dates). A crawler that
ignores the JSON would call the column blank: a false veto (docs/DOMAIN.md §9). Compliant: 预决算 on time, debt tables,
annual report as a text-extractable PDF. Planted: fake IPv6 (AAAA, nothing listening on ::1).
"""

from __future__ import annotations

import datetime as dt
import json

from zwgk.demo import annual, content
from zwgk.demo.cms import CmsSite, Item, block, series
from zwgk.demo.layout import Identity
from zwgk.demo.model import CST, DemoSite, Routes, host_url
from zwgk.demo.pdf import make_pdf

HOST = "fzj.hhw.gov.cn"
UNIT = "区发展和财政局"
NAME = "红海湾经济开发区发展和财政局"
NAV = [("工作动态", "/gzdt/"), ("信息公开目录", "/gkmlpt/index"), ("财政预决算", "/czyjs/"),
       ("政府信息公开指南", "/zfxxgkzn/"), ("政府信息公开年报", "/zfxxgknb/"), ("依申请公开", "/ysqgk/")]
IDENT = Identity(site_name=NAME, domain=HOST, sponsor="红海湾经济开发区发展和财政局", phone="0660-3388120",
                 address="汕尾市红海湾经济开发区田墘街道行政中心2号楼", site_code="4415000002",
                 footer_code="4415000002", icp="粤ICP备05012345号-2", police="44150202000102",
                 conac_id="1B4E8D23C6F95E67B2D3E4F506172839")
SID = "4415213"
# gkmlpt categories (id → name); category 0 is every document
CATEGORIES = {2881: "通知公告", 2882: "财政预决算", 2883: "政府信息公开年报"}

# As on real gkmlpt sites: the page spells no API URL. The inline config carries the site id, the
# category is the URL fragment (#2882), and the browser script assembles
# /gkmlpt/api/all/<category>?page=<n>&sid=<SID> at run time.
GKML_SCRIPT = """<script type="text/javascript">
  window._CONFIG = { SID: '@SID@', PLATFORM: 'gkmlpt', PAGE_SIZE: 100 };
</script>
<script type="text/javascript">
  (function () {
    var base = location.pathname.replace(/\\/gkmlpt\\/.*$/, "");
    function load(cat, page) {
      var api = base + "/gkmlpt/api/all/" + cat + "?page=" + page + "&sid=" + window._CONFIG.SID;
      var xhr = new XMLHttpRequest();
      xhr.open("GET", api);
      xhr.onload = function () {
        var data = JSON.parse(xhr.responseText), box = document.getElementById("gkmlpt-list");
        box.innerHTML = "";
        data.articles.forEach(function (a) {
          var d = new Date(a.first_publish_time * 1000);
          box.insertAdjacentHTML("beforeend", '<li><a href="' + a.url + '">' + a.title + '</a><span>' +
            d.toISOString().slice(0, 10) + '</span></li>');
        });
      };
      xhr.send();
    }
    function route() { load(location.hash.replace("#", "") || 0, 1); }
    window.addEventListener("hashchange", route);
    route();
  })();
</script>""".replace("@SID@", SID)


def api_path(category: int, page: int = 1) -> str:
    """The gkmlpt list API the catalog's script asks for ``category`` (0 = all)."""
    return f"/gkmlpt/api/all/{category}?page={page}&sid={SID}"


def _epoch(day: dt.date, hhmm: str) -> int:
    h, m = map(int, hhmm.split(":"))
    return int(dt.datetime(day.year, day.month, day.day, h, m, tzinfo=CST).timestamp())


def build(today: dt.date) -> DemoSite:
    Y = today.year
    routes = Routes()
    site = CmsSite(IDENT, routes, unit=UNIT, first_id=2123400, nav=NAV)
    news = site.column("/gzdt/", "工作动态", series(
        ["区发展和财政局开展财政资金直达基层专项检查", "区发展和财政局召开预算绩效管理工作会议",
         "区发展和财政局开展政府采购业务培训", "区发展和财政局部署国有资产清查工作",
         "区发展和财政局开展惠民惠农补贴“一卡通”专项治理", "区发展和财政局召开价格监测工作会议"],
        today - dt.timedelta(days=1), 6))
    money = (content.budget_items(UNIT, today, range(Y - 5, Y + 1), month_day=(3, 25))
             + content.final_items(UNIT, today, range(Y - 6, Y), month_day=(8, 20))
             + content.debt_items(today, range(Y - 4, Y + 1)))
    site.column("/czyjs/", "财政预决算", money, per_page=60)
    reports = []
    for year, day in content.report_dates(today, (1, 20), Y - 4):
        pdf_path = f"/attachment/0/{year % 100}/{year}_nb/W0{day:%Y%m%d}123456.pdf"
        title = f"{UNIT}{year}年政府信息公开工作年度报告"
        routes.raw(pdf_path, make_pdf(annual.report_lines(UNIT, year), title), "application/pdf", day)
        reports.append(Item(title, day, link=pdf_path))
    site.column("/zfxxgknb/", "政府信息公开年报", reports)
    site.page("/zfxxgkzn/", "政府信息公开指南", content.guide_html(UNIT, revised=dt.date(Y - 1, 12, 10)),
              column="政府信息公开指南", modified=dt.date(Y - 1, 12, 10))
    routes.raw("/ysqgk/sqb.doc", content.DOC_BYTES, "application/msword")
    site.page("/ysqgk/", "依申请公开", content.application_html("/ysqgk/submit", "/ysqgk/sqb.doc"), column="依申请公开")
    _gkmlpt(site, today, money, reports)
    site.page("/", NAME, block("工作动态", "/gzdt/", news) + block("财政预决算", "/czyjs/", money)
              + block("政府信息公开年报", "/zfxxgknb/", reports, limit=2)
              + '<div class="box"><a href="/gkmlpt/index">政府信息公开目录</a></div>', modified=news[0].date)
    routes.raw("/robots.txt", b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8")
    site.page("/wzdt/", "网站地图", "<ul>" + "".join(f'<li><a href="{h}">{t}</a></li>' for t, h in NAV) + "</ul>",
              column="网站地图")
    return DemoSite("fzj", NAME, UNIT, "department", HOST, ipv6="fake", routes=routes, site_code="4415000002")


def _gkmlpt(site: CmsSite, today: dt.date, money: list[Item], reports: list[Item]) -> None:
    """The directory page (empty container, site id in an inline config, categories as #fragments)
    and its JSON API per category, newest first, in the platform's shape."""
    Y = today.year
    docs = [Item(f"红海湾经济开发区发展和财政局关于{t}的通知", today - dt.timedelta(days=8 + 41 * i),
                 info=[f"文号：红财〔{(today - dt.timedelta(days=8 + 41 * i)).year}〕{30 - i}号"])
            for i, t in enumerate(["做好年度预算编制工作", "加强财政暂付款管理", "规范行政事业单位国有资产处置",
                                   "做好惠民惠农财政补贴资金发放", "开展政府采购领域专项整治"])]
    articles: list[dict[str, object]] = []
    for i, item in enumerate(sorted(docs + money, key=lambda it: it.date, reverse=True)):
        post = 2123500 + i
        cat = 2882 if item in money else 2881
        path = f"/gkmlpt/content/2/{post // 1000}/post_{post}.html"
        site.article(path, Item(item.title, item.date, item.body, item.info),
                     column="信息公开目录", trail=[("信息公开目录", "/gkmlpt/index")])
        articles.append(_article(post, cat, item, host_url("fzj", HOST, f"{path}#{cat}"), "10:20",
                                 item.info[0].removeprefix("文号：") if item.info else ""))
    for item in reports:
        articles.append(_article(2129000 + item.date.year, 2883, item, host_url("fzj", HOST, item.url), "09:00", ""))
    articles.sort(key=lambda a: a["first_publish_time"], reverse=True)  # type: ignore[arg-type,return-value]
    for cat, name in [(0, "全部"), *CATEGORIES.items()]:
        arts = [a for a in articles if cat == 0 or a["classify_id"] == cat]
        payload = {"classify": {"id": cat, "name": name}, "page": 1, "size": 100, "total": len(arts),
                   "articles": arts, "year": Y}
        newest = dt.datetime.fromtimestamp(arts[0]["first_publish_time"], CST).date() if arts else None  # type: ignore[arg-type]
        site.routes.raw(api_path(cat), json.dumps(payload, ensure_ascii=False).encode(),
                        "application/json; charset=utf-8", newest)
    side = "".join(f'<li><a href="#{cid}">{name}</a></li>' for cid, name in CATEGORIES.items())
    body = ('<div class="gkmlpt"><div class="gkmlpt-side"><ul><li class="on"><a href="#0">全部</a></li>'
            f'{side}</ul></div>'
            '<div class="gkmlpt-main"><table class="gkmlpt-head"><tr><th>标题</th><th>发布日期</th></tr></table>'
            '<ul id="gkmlpt-list" class="gkmlpt-list"></ul><div id="gkmlpt-page"></div></div></div>'
            + GKML_SCRIPT)
    site.page("/gkmlpt/index", "信息公开目录", body, column="信息公开目录")


def _article(post: int, cat: int, item: Item, url: str, hhmm: str, number: str) -> dict[str, object]:
    """One article as the gkmlpt API answers it: epoch-second dates, 索引号, 文号."""
    t = _epoch(item.date, hhmm)
    return {"id": post, "title": item.title, "url": url, "date": t, "create_time": t - 86400,
            "publish_time": t, "first_publish_time": t,
            "identifier": f"11441500MB2C12345X/{item.date.year}-{post % 1000:05d}", "document_number": number,
            "classify_id": cat, "classify": CATEGORIES[cat], "source": UNIT}
