"""东洲街道办事处: no own site, a column of the portal under /dzjd/ (column_of = "portal").

Its crawl scope is the /dzjd/ path prefix, so every sub-column and article lives below it.
Compliant: 公开目录, 工作动态, 预决算 on time, 年报 on time, 指南 (20 working days), 标准目录.
"""

from __future__ import annotations

import datetime as dt

from zwgk.demo import annual, board, content
from zwgk.demo.cms import CmsSite, Item, block, series
from zwgk.demo.model import DemoSite

UNIT = "东洲街道办事处"
NAME = "东洲街道办事处（门户网站栏目）"
AREAS = ["财政预决算", "社会救助", "养老服务", "涉农补贴", "就业", "城乡规划", "公共法律服务", "安全生产",
         "救灾", "户籍管理", "义务教育", "医疗卫生", "市政服务", "环境保护", "公共文化服务", "乡村振兴"]


def build(site: CmsSite, today: dt.date) -> DemoSite:
    """Adds the /dzjd/ routes to the portal's route table and returns the column site."""
    Y = today.year
    trail = [("东洲街道", "/dzjd/")]
    news = site.column("/dzjd/gzdt/", "工作动态", series(
        ["东洲街道召开安全生产工作会议", "东洲街道开展防溺水安全宣传", "东洲街道组织开展森林防火巡查",
         "东洲街道开展“我为群众办实事”活动", "东洲街道召开村（社区）两委干部培训会", "东洲街道开展农村人居环境整治"],
        today - dt.timedelta(days=2), 6), trail=trail)
    gkml = site.column("/dzjd/gkml/", "信息公开目录", series(
        ["东洲街道办事处机构职能", "东洲街道办事处领导分工", "东洲街道年度重点工作计划", "东洲街道村务公开情况汇总"],
        today - dt.timedelta(days=9), 40), trail=trail)
    site.column("/dzjd/yjs/", "预决算公开", content.budget_items(UNIT, today, range(Y - 4, Y + 1), month_day=(3, 25))
                + content.final_items(UNIT, today, range(Y - 5, Y), month_day=(8, 25)), trail=trail)
    site.column("/dzjd/nb/", "政府信息公开年报", [
        Item(f"{UNIT}{y}年政府信息公开工作年度报告", d, annual.report_html(UNIT, y))
        for y, d in content.report_dates(today, (1, 28), Y - 4)], trail=trail)
    site.page("/dzjd/zn/", "政府信息公开指南", content.guide_html(UNIT, revised=dt.date(Y - 1, 11, 20)),
              column="政府信息公开指南", trail=trail)
    site.column("/dzjd/hmhn/", "惠民惠农补贴", [
        Item(f"东洲街道{d:%Y年%-m月}耕地地力保护补贴发放公示", d) for d in
        (today - dt.timedelta(days=10 + 30 * k) for k in range(4))], trail=trail)
    site.column("/dzjd/ghjh/", "规划计划", [Item(f"东洲街道{Y - 1}年工作总结和{Y}年工作计划", dt.date(Y, 1, 15))]
                if dt.date(Y, 1, 15) <= today else [Item(f"东洲街道{Y - 2}年工作总结和{Y - 1}年工作计划",
                                                        dt.date(Y - 1, 1, 15))], trail=trail)
    site.column("/dzjd/yqfk/", "疫情防控", [Item("东洲街道冬春季传染病防控健康提示", today - dt.timedelta(days=40))],
                trail=trail)
    rows = "".join(f"<tr><td>{i + 1}</td><td>{a}</td><td>{a}相关政策、办事指南</td><td>《政府信息公开条例》</td>"
                   f"<td>信息形成之日起20个工作日内</td><td>{UNIT}</td><td>政府网站、公开栏</td><td>全社会</td>"
                   "<td>主动公开</td></tr>" for i, a in enumerate(AREAS))
    site.page("/dzjd/bzml/", "基层政务公开标准目录",
              '<table border="1"><tr><th>序号</th><th>公开事项</th><th>公开内容</th><th>公开依据</th><th>公开时限</th>'
              f"<th>公开主体</th><th>公开渠道和载体</th><th>公开对象</th><th>公开方式</th></tr>{rows}</table>"
              "<p>未涉及领域事项说明：本街道不涉及国有土地上房屋征收与补偿等领域。</p>",
              column="基层政务公开标准目录", trail=trail)
    msgs = board.messages(today, [(6, 4), (40, 8), (120, 11)], first_no=3001)
    for m in msgs:
        m.url = f"/dzjd/sjxx/content_{m.no}.html"
        site.page(m.url, m.title, board.detail_html(m), column="书记信箱", trail=trail, modified=m.replied)
    site.page("/dzjd/sjxx/", "书记信箱", board.list_layout(msgs), column="书记信箱", trail=trail)
    cols = [("信息公开目录", "/dzjd/gkml/"), ("工作动态", "/dzjd/gzdt/"), ("预决算公开", "/dzjd/yjs/"),
            ("政府信息公开年报", "/dzjd/nb/"), ("政府信息公开指南", "/dzjd/zn/"), ("惠民惠农补贴", "/dzjd/hmhn/"),
            ("规划计划", "/dzjd/ghjh/"), ("疫情防控", "/dzjd/yqfk/"), ("基层政务公开标准目录", "/dzjd/bzml/"),
            ("书记信箱", "/dzjd/sjxx/")]
    site.page("/dzjd/", "东洲街道", '<ul class="sub-cols">' + "".join(f'<li><a href="{h}">{t}</a></li>' for t, h in cols)
              + "</ul>" + block("工作动态", "/dzjd/gzdt/", news) + block("信息公开目录", "/dzjd/gkml/", gkml),
              column="东洲街道", modified=news[0].date)
    site.routes["/dzjd/index.html"] = site.routes["/dzjd/"]
    return DemoSite("dzjd", NAME, UNIT, "street", "www.hhw.gov.cn", ipv6="real", column_of="portal", path="/dzjd/",
                    site_code="4415000001")
