"""区教育局 jyj.hhw.gov.cn: a 信息公开目录 built by a Vue-style app the crawler does not know by heart.

Each category page of the 信息公开目录 (/xxgk/tzgg/, /xxgk/yjs/, …) is an app shell: an empty list
template (``v-for``/``{{ }}``), an inline ``window.__APP_CONFIG__`` with the API base, site id and
category id, and the site's own ``/static/js/xxgk-app.js``, which fetches
``<apiBase>/doc/list?siteId=…&catId=…&pageNo=…&pageSize=…`` — a URL spelled nowhere in the page, answered
with paged JSON (``data.rows``, ``totalPage``). Only endpoint discovery from the page's scripts (or a
browser) reads these lists (issue 15); the 部门预决算, 人事信息, 规划计划 and 年报 verdicts hang on it.

Planted, all inside the script-rendered catalogue: 规划计划 answers an empty list (blank column),
人事信息 last updated 14 months ago (stale), the previous year's 部门决算 published after 30 September,
the previous year's 年报 published after 31 January. Compliant: the current 部门预算 on time (its
item is on the JSON's first page, older years on the second), a fresh static 工作动态, guide and
依申请公开 channel.
"""

from __future__ import annotations

import datetime as dt
import json

from zwgk.demo import annual, content
from zwgk.demo.cms import CmsSite, Item, block, series
from zwgk.demo.layout import Identity
from zwgk.demo.model import DemoSite, Plant, Routes

HOST = "jyj.hhw.gov.cn"
UNIT = "区教育局"
NAME = "红海湾经济开发区教育局"
SITE_ID = "4415007"
API = "/open-api/v1/doc/list"
PAGE_SIZE = 10
# category slug -> (id, name)
CATEGORIES = {"tzgg": (1101, "通知公告"), "yjs": (1102, "部门预决算"), "rsxx": (1103, "人事信息"),
              "ghjh": (1104, "规划计划"), "nb": (1105, "政府信息公开年报")}
NAV = [("工作动态", "/gzdt/"), ("信息公开目录", "/xxgk/"),
       *((name, f"/xxgk/{slug}/") for slug, (_, name) in CATEGORIES.items()),
       ("政府信息公开指南", "/zfxxgkzn/"), ("依申请公开", "/ysqgk/")]
IDENT = Identity(site_name=NAME, domain=HOST, sponsor="红海湾经济开发区教育局", phone="0660-3388260",
                 address="汕尾市红海湾经济开发区田墘街道行政中心6号楼", site_code="4415000007",
                 footer_code="4415000007", icp="粤ICP备05012345号-8", police="44150202000108",
                 conac_id="5F82C167A0D3920BF6172839405B6C7D")

# The app script, as such sites ship it: the URL is assembled at run time from the page's config.
APP_JS = """/* 信息公开目录 v2.3 */
(function (cfg) {
  new Vue({
    el: "#xxgk-app",
    data: { docs: [], pageNo: 1, totalPage: 1, loading: true },
    mounted: function () { this.load(1); },
    methods: {
      load: function (pageNo) {
        var vm = this;
        fetch(cfg.apiBase + "/doc/list?siteId=" + cfg.siteId + "&catId=" + cfg.catId + "&pageNo=" + pageNo +
              "&pageSize=" + cfg.pageSize)
          .then(function (r) { return r.json(); })
          .then(function (d) { vm.docs = d.data.rows; vm.totalPage = d.data.totalPage; vm.loading = false; });
      }
    }
  });
})(window.__APP_CONFIG__);
"""
VUE_STUB = "/*! Vue.js v2.7.16 (c) 2014-2023 Evan You. Released under the MIT License. */\n"


def _shell(cat_id: int) -> str:
    config = json.dumps({"apiBase": "/open-api/v1", "siteId": SITE_ID, "catId": str(cat_id), "pageSize": PAGE_SIZE})
    return (f"<script>window.__APP_CONFIG__ = {config};</script>"
            '<div id="xxgk-app" class="xxgk-list"><ul class="doc-list">'
            '<li v-for="doc in docs"><a :href="doc.link" target="_blank">{{ doc.docTitle }}</a>'
            "<span>{{ doc.pubTime.substring(0, 10) }}</span></li></ul>"
            '<p v-if="loading" class="loading">加载中…</p>'
            '<div class="pager" v-if="totalPage > 1"><a v-for="n in totalPage" @click="load(n)">{{ n }}</a></div>'
            "</div>"
            '<script src="/static/js/vue.min.js"></script><script src="/static/js/xxgk-app.js?v=20260301"></script>')


def build(today: dt.date) -> tuple[DemoSite, list[Plant]]:
    Y = today.year
    days = dt.timedelta
    routes = Routes()
    site = CmsSite(IDENT, routes, unit=UNIT, first_id=8800000, nav=NAV)
    news = site.column("/gzdt/", "工作动态", series(
        ["区教育局开展中小学校园安全大检查", "区教育局召开秋季学期教学质量分析会", "区教育局组织开展教师信息技术培训",
         "区教育局部署冬季校园防火工作", "区教育局开展学生近视防控宣传月活动"], today - days(2), 9))
    notices = series(["关于做好2026年寒假放假安排的通知", "关于开展中小学课后服务情况调查的通知",
                      "关于公布区级优秀教研成果评选结果的通知", "关于组织参加全市中小学生运动会的通知",
                      "关于做好学生资助政策宣传工作的通知", "关于开展校外培训机构年度检查的通知",
                      "关于做好秋季学期开学准备工作的通知", "关于开展教师资格认定工作的通知",
                      "关于公布义务教育阶段招生结果的通知", "关于做好中考考务工作的通知",
                      "关于开展学前教育宣传月活动的通知", "关于公布民办学校年检结果的通告"], today - days(4), 9)
    money = (content.budget_items(UNIT, today, range(Y - 4, Y + 1), month_day=(3, 28))
             + content.final_items(UNIT, today, range(Y - 5, Y - 1), month_day=(8, 25))
             + content.final_items(UNIT, today, range(Y - 1, Y), month_day=(10, 16)))    # planted: late
    late_final = next((it for it in money if it.title.endswith(f"{Y - 1}年部门决算")), None)
    personnel = series(["区教育局关于公开招聘中小学教师拟聘用人员名单的公示", "区教育局关于干部任职前公示的公告",
                        "区教育局关于公开招聘编外工作人员的公告"], today - days(425), 60)
    # every report on 22 January, last year's on 12 February (planted: late)
    reports = [Item(f"{UNIT}{y}年政府信息公开工作年度报告", d, annual.report_html(UNIT, y))
               for y, d in content.report_dates(today, (1, 22), Y - 4) if y < Y - 1]
    if dt.date(Y, 2, 12) <= today:
        reports.append(Item(f"{UNIT}{Y - 1}年政府信息公开工作年度报告", dt.date(Y, 2, 12), annual.report_html(UNIT, Y - 1)))
    late_report = next((it for it in reports if it.date.year == Y), None)
    lists = {"tzgg": notices, "yjs": money, "rsxx": personnel, "ghjh": [], "nb": reports}
    for slug, items in lists.items():
        _category(site, slug, items)
    routes.raw("/static/js/xxgk-app.js", APP_JS.encode(), "application/javascript; charset=utf-8")
    routes["/static/js/xxgk-app.js?v=20260301"] = routes["/static/js/xxgk-app.js"]    # the cache-busting URL pages use
    routes.raw("/static/js/vue.min.js", VUE_STUB.encode(), "application/javascript; charset=utf-8")
    cats = "".join(f'<li><a href="/xxgk/{slug}/">{name}</a></li>' for slug, (_, name) in CATEGORIES.items())
    site.page("/xxgk/", "信息公开目录", f'<div class="xxgk-nav"><h2>信息公开目录</h2><ul>{cats}</ul></div>',
              column="信息公开目录")
    site.page("/zfxxgkzn/", "政府信息公开指南", content.guide_html(UNIT, revised=dt.date(Y - 1, 11, 3)),
              column="政府信息公开指南")
    routes.raw("/ysqgk/sqb.doc", content.DOC_BYTES, "application/msword")
    site.page("/ysqgk/", "依申请公开", content.application_html("/ysqgk/submit", "/ysqgk/sqb.doc"), column="依申请公开")
    site.page("/", NAME, block("工作动态", "/gzdt/", news)
              + f'<div class="box"><h3>信息公开目录</h3><ul>{cats}</ul></div>', modified=news[0].date)
    routes["/index.html"] = routes["/"]
    site.page("/wzdt/", "网站地图", "<ul>" + "".join(f'<li><a href="{h}">{t}</a></li>' for t, h in NAV) + "</ul>",
              column="网站地图")
    routes.raw("/robots.txt", b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8")
    demo = DemoSite("jyj", NAME, UNIT, "department", HOST, ipv6="none", routes=routes, site_code="4415000007")
    plants = [
        Plant("jyj", "column-blank", "规划计划 (script-rendered) answers an empty list", "/xxgk/ghjh/"),
        Plant("jyj", "column-stale", "人事信息 (script-rendered) last updated 14 months ago", "/xxgk/rsxx/"),
    ]
    if late_final is not None:
        plants.append(Plant("jyj", "final-accounts", f"{Y - 1}年部门决算 published {late_final.date} (due 09-30), "
                            "listed only by the script's JSON", late_final.url))
    if late_report is not None:
        plants.append(Plant("jyj", "annual-report", f"{Y - 1}年年报 published {late_report.date} (departments: "
                            "01-31), listed only by the script's JSON", late_report.url))
    return demo, plants


def _category(site: CmsSite, slug: str, items: list[Item]) -> None:
    """The category's app-shell page, its articles, and the paged JSON its script asks for."""
    cat_id, name = CATEGORIES[slug]
    path = f"/xxgk/{slug}/"
    trail = [("信息公开目录", "/xxgk/"), (name, path)]
    items = sorted(items, key=lambda it: it.date, reverse=True)
    for item in items:
        site._next_id += 1
        item.url = f"{path}content_{site._next_id}.html"
        site.article(item.url, item, column=name, trail=trail)
    pages = [items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
    for n, chunk in enumerate(pages, start=1):
        rows = [{"docId": int(it.url.rsplit("_", 1)[1].split(".")[0]), "docTitle": it.title,
                 "pubTime": f"{it.date:%Y-%m-%d} {it.hhmm}:00", "link": it.url, "source": UNIT} for it in chunk]
        payload = {"code": 200, "msg": "success", "data": {"pageNo": n, "pageSize": PAGE_SIZE, "total": len(items),
                                                           "totalPage": len(pages), "rows": rows}}
        query = f"?siteId={SITE_ID}&catId={cat_id}&pageNo={n}&pageSize={PAGE_SIZE}"
        site.routes.raw(API + query, json.dumps(payload, ensure_ascii=False).encode(),
                        "application/json;charset=UTF-8", chunk[0].date if chunk else None)
    site.page(path, name, f'<div class="column"><h2 class="column-title">{name}</h2>{_shell(cat_id)}</div>',
              column=name, trail=trail)
