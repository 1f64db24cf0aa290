"""区公共事业局 ggsy.hhw.gov.cn (TRS style): a navigation-only home page over fresh columns.

The home page has menus only (no dated items): 首页不更新 must then be judged on its
second-level pages, which are fresh. Planted: a 政策解读 that matches its policy by title but
links neither way, a future-dated 通知公告 item and an article whose PubDate meta contradicts its
visible date (forged dates), no HTTPS (informational; true of every demo site), and two 严重错误
candidates for the review queue (``zwgk.demo.severe``): a 临时救助 公示 whose Excel attachment lists
full 身份证号, and a news item naming the 区党工委书记 with a wrong title.
"""

from __future__ import annotations

import datetime as dt

from zwgk.demo import annual, content, severe
from zwgk.demo.cms import CmsSite, Item, series
from zwgk.demo.layout import Identity
from zwgk.demo.model import DemoSite, Plant, Routes

HOST = "ggsy.hhw.gov.cn"
UNIT = "区公共事业局"
NAME = "红海湾经济开发区公共事业局"
NAV = [("工作动态", "/gzdt/"), ("通知公告", "/tzgg/"), ("政策文件", "/zcwj/"), ("政策解读", "/zcjd/"),
       ("规范性文件", "/gfxwj/"), ("部门预决算", "/czyjs/"), ("政府信息公开指南", "/zfxxgkzn/"),
       ("政府信息公开年报", "/zfxxgknb/"), ("依申请公开", "/ysqgk/")]
IDENT = Identity(site_name=NAME, domain=HOST, sponsor="红海湾经济开发区公共事业局", phone="0660-3388210",
                 address="汕尾市红海湾经济开发区田墘街道行政中心5号楼", site_code="4415000005",
                 footer_code="4415000005", icp="粤ICP备05012345号-6", police="44150202000106",
                 conac_id="4E71B056F9C2819AE5061728394A5B6C")


def build(today: dt.date) -> tuple[DemoSite, list[Plant]]:
    Y = today.year
    days = dt.timedelta
    routes = Routes()
    site = CmsSite(IDENT, routes, unit=UNIT, first_id=7700000, nav=NAV)
    news = series(["区公共事业局开展校园食品安全专项检查", "区公共事业局召开秋季开学工作部署会",
                   "区公共事业局开展爱国卫生运动", "区公共事业局组织开展家庭医生签约服务宣传",
                   "区公共事业局开展城乡供水水质抽检"], today - days(3), 8)
    forged = news[2]
    forged.pubdate_meta = f"{forged.date - days(45):%Y-%m-%d} 08:00"  # meta says 45 days earlier
    # 严重错误 candidate: the 区党工委书记 named with a wrong title (the district lexicon lists him)
    meeting = Item("区公共事业局传达学习全区经济工作会议精神", today - days(5),
                   "<p>近日，区公共事业局召开专题会议，传达学习全区经济工作会议精神。全区经济工作会议上，"
                   "管委会副主任陈志远出席会议并讲话，对明年工作作出部署。</p>")
    site.column("/gzdt/", "工作动态", [news[0], meeting, *news[1:]])
    future = Item(f"关于{(today + days(30)).year}年中小学校假期安排的通知", today + days(30))
    # 严重错误 candidate: a 公示 whose Excel attachment lists full 身份证号 and phone numbers
    relief_path = f"/tzgg/{today:%Y%m}/P020{today:%Y%m%d}0001.xlsx"
    routes.raw(relief_path, severe.relief_xlsx(today),
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", today - days(8))
    relief = Item(f"{today.year}年第{'一二三四'[(today.month - 1) // 3]}季度临时救助对象公示", today - days(8),
                  "<p>根据《社会救助暂行办法》，经申请、审核，现将临时救助对象予以公示，公示期7天。</p>"
                  f'<p>附件：<a href="{relief_path}">临时救助对象公示表.xlsx</a></p>')
    site.column("/tzgg/", "通知公告", [future, relief] + series(
        ["关于开展适龄儿童免费接种疫苗工作的通知", "关于做好秋冬季传染病防控工作的通知"], today - days(6), 20))
    policy = Item("红海湾经济开发区公共事业局关于进一步规范校外培训机构管理的通知", today - days(16),
                  info=[f"文号：红公事〔{(today - days(16)).year}〕9号"])
    site.column("/zcwj/", "政策文件", [policy, Item("红海湾经济开发区公共事业局学前教育资助实施办法", today - days(90))])
    # The 解读 names its policy in the title but carries no link to it, nor the policy to it.
    jd = Item("《关于进一步规范校外培训机构管理的通知》政策解读", today - days(14),
              "<p>一、制定背景　二、主要内容　三、适用范围……</p>")
    site.column("/zcjd/", "政策解读", [jd])
    site.column("/gfxwj/", "规范性文件", [
        Item("红海湾经济开发区公共事业局学前教育资助实施办法", today - days(90),
             info=[f"文号：红公规〔{(today - days(90)).year}〕1号", f"成文日期：{today - days(96):%Y-%m-%d}",
                   f"发布日期：{today - days(90):%Y-%m-%d}", "有效性：有效"])])
    # The budget of two years ago was taken down (disclosures stay up permanently: a finding).
    site.column("/czyjs/", "部门预决算", content.budget_items(UNIT, today, [y for y in range(Y - 4, Y + 1)
                                                                          if y != Y - 2], month_day=(3, 22))
                + content.final_items(UNIT, today, range(Y - 5, Y), month_day=(8, 22)))
    site.page("/zfxxgkzn/", "政府信息公开指南", content.guide_html(UNIT, revised=dt.date(Y - 1, 10, 9)),
              column="政府信息公开指南")
    site.column("/zfxxgknb/", "政府信息公开年报", [
        Item(f"{UNIT}{y}年政府信息公开工作年度报告", d, annual.report_html(UNIT, y))
        for y, d in content.report_dates(today, (1, 25), Y - 3)])
    routes.raw("/ysqgk/sqb.doc", content.DOC_BYTES, "application/msword")
    site.page("/ysqgk/", "依申请公开", content.application_html("/ysqgk/submit", "/ysqgk/sqb.doc"), column="依申请公开")
    # Navigation-only home page: menus and entry tiles, no dated items.
    tiles = "".join(f'<li class="tile"><a href="{h}">{t}</a></li>' for t, h in NAV)
    site.page("/", NAME, f'<div class="home-tiles"><ul>{tiles}</ul></div>'
              '<div class="banner"><img src="/images/logo.png" alt="公共事业"></div>', modified=news[0].date)
    routes["/index.html"] = routes["/"]
    routes.raw("/robots.txt", b"User-agent: *\nDisallow: /search/\n", "text/plain; charset=utf-8")
    site.page("/wzdt/", "网站地图", f"<ul>{tiles}</ul>", column="网站地图")
    demo = DemoSite("ggsy", NAME, UNIT, "department", HOST, ipv6="real", routes=routes, site_code="4415000005")
    plants = [
        Plant("ggsy", "budget-history", f"{Y - 2}年部门预算 no longer published (past years must stay up)",
              "/czyjs/"),
        Plant("ggsy", "policy-interpretation", "policy has a 解读 matching it by title but neither links to the other",
              policy.url),
        # forged dates are a 严重错误 (veto) item a person must confirm: the check asks for review
        Plant("ggsy", "forged-dates", f"通知公告 item dated {future.date} (in the future)", future.url,
              expect="manual"),
        Plant("ggsy", "forged-dates", "PubDate meta 45 days before the visible publication date", forged.url,
              expect="manual"),
        # 严重错误 candidates (veto once a person confirms them in `zwgk review-queue`)
        Plant("ggsy", "privacy-leaks", "临时救助 公示 attachment (XLSX) lists full 身份证号 and mobile numbers",
              relief_path, expect="manual"),
        Plant("ggsy", "wording-lexicon", "区党工委书记陈志远 called 管委会副主任 in a news item", meeting.url,
              expect="manual"),
        Plant("ggsy", "https", "HTTPS not available", "/", expect="info"),
    ]
    return demo, plants
