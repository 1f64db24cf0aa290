"""区司法局 sfj.hhw.gov.cn (Hanweb JCMS URL style): the department with many planted problems.

Planted (see PLANTS): partial IPv6 (home page over IPv6, inner pages 502 / connection closed),
the due 部门预算 missing and final accounts a year behind, 规范性文件 without validity marks,
broken links on the home page and an inner page, a dead attachment, a soft-404 target, a
WAF-blocked link (403: could not verify, not broken), an outbound link to a lapsed government
domain now serving gambling (外链变异), an outdated 指南 (15个工作日), and annual reports
published late (02-10) whose newest one has a table 三 A1 error.
"""

from __future__ import annotations

import datetime as dt

from zwgk.demo import annual, content
from zwgk.demo.cms import CmsSite, Item, block, series
from zwgk.demo.layout import Identity
from zwgk.demo.model import DemoSite, Plant, Resp, Routes, host_url

HOST = "sfj.hhw.gov.cn"
UNIT = "区司法局"
NAME = "红海湾经济开发区司法局"
C_NEWS, C_DOCS, C_MONEY, C_GUIDE, C_REPORT, C_LAW = (f"/col/col{n}/" for n in range(1001, 1007))
NAV = [("工作动态", C_NEWS), ("规范性文件", C_DOCS), ("部门预决算", C_MONEY), ("政府信息公开指南", C_GUIDE),
       ("政府信息公开年报", C_REPORT), ("公共法律服务", C_LAW), ("法治宣传", "/col/col1010/index.html")]
IDENT = Identity(site_name=NAME, domain=HOST, sponsor="红海湾经济开发区司法局", phone="0660-3388148",
                 address="汕尾市红海湾经济开发区田墘街道行政中心3号楼", site_code="4415000003",
                 footer_code="4415000003", icp="粤ICP备05012345号-3", police="44150202000103",
                 conac_id="2C5F9E34D7A06F78C3E4F5061728394A")

BROKEN_HOME = "/col/col1010/index.html"  # the 法治宣传 menu item: column deleted, 404
BROKEN_INNER = "/art/2021/6/18/art_1006_880.html"  # old 法律援助 guide linked from an article
DEAD_ATTACHMENT = "/module/download/downfile.jsp?classid=0&filename=2105171052123.pdf"
SOFT_404 = "/col/col1099/index.html"  # 200 + 您访问的页面不存在
BLOCKED = "/interface/zxzx/index.jsp"  # WAF answers 403 to bots
GAMBLING_HOST = "www.old-partner-gov.cn"
SOFT_404_HTML = ("<html><head><meta charset=\"utf-8\"><title>提示信息</title></head><body><div class=\"err\">"
                 "<p>抱歉，您访问的页面不存在或已被删除！</p><a href=\"/\">返回首页</a></div></body></html>")


def build(today: dt.date) -> tuple[DemoSite, list[Plant]]:
    Y = today.year
    routes = Routes()
    site = CmsSite(IDENT, routes, unit=UNIT, scheme="jcms", first_id=5600000, nav=NAV)
    news = site.column(C_NEWS, "工作动态", series(
        ["区司法局开展“八五”普法宣传进社区活动", "区司法局召开人民调解员业务培训会", "区司法局开展社区矫正对象集中教育",
         "区司法局组织开展行政执法案卷评查", "区司法局开展法律援助惠民生活动", "区司法局召开全面依法治区工作会议"],
        today - dt.timedelta(days=1), 5))
    # 规范性文件 without 有效性 marks (task 27 requires 有效/失效/废止 on each document).
    docs = [Item(f"红海湾经济开发区司法局关于{t}的通知", today - dt.timedelta(days=30 + 70 * i),
                 info=[f"文号：红司规〔{(today - dt.timedelta(days=30 + 70 * i)).year}〕{i + 1}号"])
            for i, t in enumerate(["规范人民调解工作的若干规定", "加强法律援助案件质量管理", "规范基层法律服务工作"])]
    site.column(C_DOCS, "规范性文件", docs)
    b_year, f_year = content.due_budget_year(today), content.due_final_year(today)
    money = (content.budget_items(UNIT, today, range(b_year - 4, b_year))  # the due year is missing
             + content.final_items(UNIT, today, range(f_year - 5, f_year)))  # a year behind
    site.column(C_MONEY, "部门预决算", money)
    site.page(C_GUIDE, "政府信息公开指南", content.guide_html(UNIT, days=15), column="政府信息公开指南",
              modified=dt.date(2018, 5, 10))
    routes[f"{C_GUIDE}index.html"] = routes[C_GUIDE]
    published = content.report_dates(today, (2, 10), Y - 4)  # department deadline is 01-31
    newest = published[-1][0] if published else None
    reports = [Item(f"{UNIT}{y}年政府信息公开工作年度报告", d, annual.report_html(UNIT, y, a1_error=(y == newest)))
               for y, d in published]
    reports = site.column(C_REPORT, "政府信息公开年报", reports)
    law = site.column(C_LAW, "公共法律服务", [
        Item("红海湾经济开发区法律援助申请指南", today - dt.timedelta(days=12),
             "<p>申请法律援助请携带身份证明、经济困难证明等材料。</p>"
             f'<p>旧版指南请见：<a href="{BROKEN_INNER}">法律援助办事指南（2021年版）</a></p>'
             f'<p>附件：<a href="{DEAD_ATTACHMENT}">法律援助申请表.pdf</a></p>'),
        Item("公共法律服务实体平台地址及联系方式", today - dt.timedelta(days=40),
             f'<p>在线咨询请进入<a href="{BLOCKED}">法律咨询平台</a>。</p>'
             f'<p>人民调解组织名录请见<a href="{SOFT_404}">人民调解委员会名录</a>。</p>'),
    ])
    routes.page(BROKEN_HOME, "<html><body><h1>404 Not Found</h1></body></html>", status=404)
    routes.page(BROKEN_INNER, "<html><body><h1>404 Not Found</h1></body></html>", status=404)
    routes[DEAD_ATTACHMENT] = Resp(404, "<html><body>文件不存在</body></html>", {"Content-Type": "text/html; charset=utf-8"})
    routes.page(SOFT_404, SOFT_404_HTML)
    routes[BLOCKED] = Resp(403, "<html><body><h1>403 Forbidden</h1><p>您的访问请求已被网站安全防护拦截。</p></body></html>",
                           {"Content-Type": "text/html; charset=utf-8", "Server": "WAF"})
    gambling = host_url("oldpartner", GAMBLING_HOST, "/")
    home = (block("工作动态", C_NEWS, news) + block("公共法律服务", C_LAW, law) + block("政府信息公开年报", C_REPORT, reports)
            + '<div class="box links"><h3>友情链接</h3><ul>'
            f'<li><a href="{host_url("portal", "www.hhw.gov.cn")}">红海湾经济开发区门户网站</a></li>'
            f'<li><a href="{gambling}" target="_blank">汕尾市法律援助网</a></li></ul></div>')
    site.page("/", NAME, home, modified=news[0].date)
    routes["/index.html"] = routes["/"]
    routes.raw("/robots.txt", b"User-agent: *\nDisallow: /admin/\n", "text/plain; charset=utf-8")
    site.page("/wzdt/", "网站地图", "<ul>" + "".join(f'<li><a href="{h}">{t}</a></li>' for t, h in NAV) + "</ul>",
              column="网站地图")
    # Partial IPv6: the home page (and its assets) answer over IPv6, every inner page fails.
    routes_v6: dict[str, Resp] = {}
    for i, path in enumerate(sorted(routes)):
        if path in ("/", "/index.html", "/robots.txt") or path.startswith(("/images/", "/css/", "/js/")):
            continue
        routes_v6[path] = Resp(502, "<html><body>502 Bad Gateway</body></html>",
                               {"Content-Type": "text/html"}) if i % 2 else Resp(close=True)
    demo = DemoSite("sfj", NAME, UNIT, "department", HOST, ipv6="partial", routes=routes, routes_v6=routes_v6,
                    fallback=Resp(200, SOFT_404_HTML, {"Content-Type": "text/html; charset=utf-8"}),
                    site_code="4415000003")
    report_path = reports[0].url if reports else C_REPORT
    plants = [
        Plant("sfj", "ipv6", "partial IPv6: home page loads over IPv6, inner pages 502 or connection closed", "/"),
        Plant("sfj", "budget-current-year", f"{b_year}年部门预算 (due) not published", C_MONEY),
        Plant("sfj", "final-accounts", f"{f_year}年部门决算 (due) missing; newest is {f_year - 1}", C_MONEY),
        Plant("sfj", "normative-documents", "规范性文件 without 有效性 marks", C_DOCS),
        Plant("sfj", "links", "home page menu link 法治宣传 → 404", BROKEN_HOME),
        Plant("sfj", "links", "inner page link to old 法律援助 guide → 404", BROKEN_INNER),
        Plant("sfj", "links", "attachment 法律援助申请表.pdf → 404", DEAD_ATTACHMENT),
        Plant("sfj", "links", "soft 404: 200 with 您访问的页面不存在", SOFT_404),
        Plant("sfj", "links", "403 from WAF: could not verify, not broken", BLOCKED, expect="unverified"),
        Plant("sfj", "external-links", f"友情链接 to {GAMBLING_HOST} now shows gambling (外链变异)", "/"),
        Plant("sfj", "disclosure-guide", "指南 still says 15个工作日 (pre-2019 条例)", C_GUIDE),
        Plant("sfj", "annual-report", "annual reports published 02-10, after the 01-31 deadline", report_path),
        Plant("sfj", "annual-report", "table 三 (七)总计 off by one: A1 fails", report_path),
    ]
    return demo, plants
