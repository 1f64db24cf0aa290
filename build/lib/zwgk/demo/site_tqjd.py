"""田墘街道办事处 tqjd.hhw.gov.cn: an old ASP site, GBK, table layout, no IPv6.

The charset is declared only in <meta http-equiv> (HTTP says plain "text/html"); lists are
`List.asp?ClassID=N` tables whose rows show `[mm-dd]` under a year header row; articles say
`发布时间：2026年3月5日`. Planted: five blank columns (veto), stale columns, a home page not
updated for 25 days (veto), no 网站标识码 in the footer and a wrong-region code in the meta, a
书记信箱 message answered after 3 months and 1 day (veto), an annual report in the 2019 format.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

from zwgk.demo import annual, board, content
from zwgk.demo.cms import Item
from zwgk.demo.layout import PNG_1X1, Identity, footer, head
from zwgk.demo.model import DemoSite, Plant, Resp, Routes, add_months

e = html.escape
HOST = "tqjd.hhw.gov.cn"
UNIT = "田墘街道办事处"
NAME = "红海湾经济开发区田墘街道办事处"
WRONG_CODE = "4403000027"  # a Shenzhen (440300) code: wrong region for 汕尾 (441500)
IDENT = Identity(site_name=NAME, domain=HOST, sponsor="红海湾经济开发区田墘街道办事处", phone="0660-3388260",
                 address="汕尾市红海湾经济开发区田墘街道新村路8号", site_code=WRONG_CODE, footer_code=None,
                 icp="粤ICP备05012345号-5", police="44150202000105",
                 conac_id="3D60AF45E8B17089D4F5061728394A5B")
BLANKS = {21: ("党务公开", "暂无信息"), 22: ("财政资金", "栏目建设中，敬请期待……"), 23: ("办事指南", "栏目维护中"),
          24: ("村务公开", None), 25: ("政策解读", "暂无信息")}


@dataclass
class Col:
    cid: int
    name: str
    items: list[Item] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"/List.asp?ClassID={self.cid}"


class AspSite:
    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.routes = Routes(encoding="gbk", charset_header=False)
        self.nav: list[tuple[str, str]] = []
        self._id = 860

    def doc(self, title: str, body: str, **meta: str | None) -> str:
        navs = "".join(f'<td class="nav"><a href="{e(h)}">{e(t)}</a></td>' for t, h in self.nav)
        return ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">\n<html>\n'
                + head(IDENT, title, charset="gb2312", meta_style="http-equiv", **meta)  # type: ignore[arg-type]
                + '\n<body><table width="980" align="center" cellpadding="0" cellspacing="0">'
                '<tr><td><img src="/images/top.gif" width="980" height="120"></td></tr>'
                f'<tr><td><table width="100%" class="menu"><tr><td><a href="/">网站首页</a></td>{navs}</tr></table>'
                f"</td></tr><tr><td>{body}</td></tr></table>\n{footer(IDENT)}\n</body>\n</html>\n")

    def show(self, item: Item, col: Col) -> str:
        self._id += 1
        item.url = f"/Show.asp?id={self._id}"
        body = (f'<table width="100%"><tr><td align="center"><h2>{e(item.title)}</h2></td></tr>'
                f'<tr><td align="center" class="info">发布时间：{item.date.year}年{item.date.month}月{item.date.day}日'
                f'　来源：{UNIT}　栏目：{e(col.name)}</td></tr>'
                f'<tr><td class="content">{item.body or "<p>" + e(item.title) + "。</p>"}</td></tr></table>')
        self.routes.page(item.url, self.doc(item.title, body, column=col.name, article=item.title,
                                            pubdate=f"{item.date:%Y-%m-%d} 09:30"), item.date)
        return item.url

    def list_page(self, col: Col, empty_text: str | None = None) -> None:
        rows, year = [], None
        for item in sorted(col.items, key=lambda it: it.date, reverse=True):
            if not item.url:
                self.show(item, col)
            if item.date.year != year:
                year = item.date.year
                rows.append(f'<tr><td colspan="2" class="yearhead"><b>{year}年</b></td></tr>')
            rows.append(f'<tr><td>·<a href="{e(item.url)}" target="_blank">{e(item.title)}</a></td>'
                        f'<td width="80">[{item.date:%m-%d}]</td></tr>')
        if not rows and empty_text:
            rows.append(f'<tr><td colspan="2" align="center">{e(empty_text)}</td></tr>')
        # The pager every 动易/新云-style ASP list prints, also under an empty list ("共0条记录").
        pager = (f'<table width="100%" class="pager"><tr><td align="center">共{len(col.items)}条记录　'
                 f"第1/1页　每页20条　首页 上一页 下一页 尾页</td></tr></table>")
        body = (f'<table width="100%" class="list"><tr><td class="title" colspan="2">当前位置：<a href="/">首页</a>'
                f" &gt;&gt; {e(col.name)}</td></tr>{''.join(rows)}</table>{pager}")
        self.routes.page(col.url, self.doc(col.name, body, column=col.name),
                         col.items[0].date if col.items else None)


def build(today: dt.date) -> tuple[DemoSite, list[Plant]]:
    Y = today.year
    site = AspSite(today)
    days = dt.timedelta
    cols = {
        11: Col(11, "工作动态", [Item(t, today - days(25 + 9 * i)) for i, t in enumerate(
            ["田墘街道开展人居环境整治百日攻坚", "田墘街道召开防风防汛工作部署会", "田墘街道开展渔船安全生产检查",
             "田墘街道举办老年人防诈骗讲座", "田墘街道开展征兵宣传活动"])]),
        12: Col(12, "通知公告", [Item(t, today - days(200 + 30 * i)) for i, t in enumerate(
            ["田墘街道关于开展城乡居民医保征缴工作的通知", "田墘街道关于做好森林防火工作的通告", "关于开展第七次全国人口普查的公告"])]),
        13: Col(13, "政策文件", [Item(t, today - days(230 + 45 * i)) for i, t in enumerate(
            ["田墘街道农村宅基地管理实施细则", "田墘街道村级财务管理办法"])]),
        14: Col(14, "人事信息", [Item("田墘街道公开招聘村（社区）专职人员公告", today - days(400))]),
        15: Col(15, "规划计划", [Item(f"田墘街道{(today - days(420)).year}年工作计划", today - days(420))]),
        16: Col(16, "预决算公开", content.budget_items(UNIT, today, range(Y - 4, Y + 1), month_day=(3, 26))
                + content.final_items(UNIT, today, range(Y - 5, Y), month_day=(8, 26))),
        17: Col(17, "政府信息公开年报", [Item(f"{UNIT}{y}年政府信息公开工作年度报告", d,
                                          annual.report_html(UNIT, y, fmt="2019"))
                                     for y, d in content.report_dates(today, (1, 20), Y - 3)]),
    }
    for cid, (name, _) in BLANKS.items():
        cols[cid] = Col(cid, name)
    site.nav = [(c.name, c.url) for c in cols.values()] + [("政府信息公开指南", "/zn.asp"), ("书记信箱", "/Guestbook.asp")]
    for cid, col in cols.items():
        site.list_page(col, BLANKS.get(cid, (None, None))[1])
    site.routes.page("/zn.asp", site.doc("政府信息公开指南", content.guide_html(UNIT), column="政府信息公开指南"))
    # Guestbook (second board layout: one table row per message, dates as columns).
    late_received = today - days(150)
    late_reply = add_months(late_received, 3) + days(1)  # 3 months and 1 day: over the limit
    msgs = board.messages(today, [(5, 3), (45, 9), (150, late_reply), (210, 20), (280, 14)], first_no=2001)
    late = next(m for m in msgs if m.received == late_received)
    for m in msgs:
        m.url = f"/Guestbook_Show.asp?id={m.no}"
        site.routes.page(m.url, site.doc(m.title, board.detail_html(m), column="书记信箱"), m.replied or m.received)
    site.routes.page("/Guestbook.asp", site.doc("书记信箱", board.table_layout(msgs), column="书记信箱"),
                     msgs[0].received)
    rows = "".join(f"<tr><td>{i}</td><td>{a}</td><td>{a}政策文件</td><td>相关法律法规</td><td>20个工作日</td>"
                   f"<td>{UNIT}</td><td>政府网站</td><td>全社会</td><td>主动公开</td></tr>"
                   for i, a in enumerate(["社会救助", "养老服务", "涉农补贴", "就业"], 1))
    site.routes.page("/bzml.asp", site.doc("基层政务公开标准目录", '<table border="1"><tr><th>序号</th><th>公开事项</th>'
                     "<th>公开内容</th><th>公开依据</th><th>公开时限</th><th>公开主体</th><th>公开渠道和载体</th>"
                     f"<th>公开对象</th><th>公开方式</th></tr>{rows}</table>", column="基层政务公开标准目录"))
    site.nav.append(("基层政务公开标准目录", "/bzml.asp"))
    home_items = sorted(cols[11].items[:4] + cols[12].items[:2], key=lambda it: it.date, reverse=True)
    lis = "".join(f'<tr><td>·<a href="{e(it.url)}">{e(it.title)}</a></td>'
                  f"<td>{it.date.year}年{it.date.month}月{it.date.day}日</td></tr>" for it in home_items)
    body = (f'<table width="100%"><tr><td class="title">街道动态</td><td><a href="{cols[11].url}">更多</a></td></tr>'
            f'{lis}</table><table width="100%"><tr><td><a href="/Guestbook.asp">书记信箱</a></td>'
            f'<td><a href="/zn.asp">政府信息公开指南</a></td><td><a href="/bzml.asp">基层政务公开标准目录</a></td></tr></table>')
    site.routes.page("/", site.doc(NAME, body), home_items[0].date)
    site.routes["/index.asp"] = site.routes["/"]
    site.routes.raw("/images/top.gif", PNG_1X1, "image/gif")
    for name in ("red", "ga", "jiucuo"):
        site.routes.raw(f"/images/{name}.png", PNG_1X1, "image/png")
    site.routes.raw("/css/style.css", b"td{font-size:12px}\n", "text/css")
    site.routes.raw("/js/page.js", b"\n", "application/javascript")
    site.routes.raw("/robots.txt", b"User-agent: *\nDisallow:\n", "text/plain")
    site.routes.page("/wzdt/", site.doc("网站地图", "".join(f'<p><a href="{e(h)}">{e(t)}</a></p>' for t, h in site.nav)))
    iis404 = Resp(404, "<html><head><title>404 - 找不到文件或目录。</title></head><body><h2>404 - 找不到文件或目录。</h2>"
                  "</body></html>".encode("gbk"), {"Content-Type": "text/html", "Server": "Microsoft-IIS/6.0"})
    demo = DemoSite("tqjd", NAME, UNIT, "street", HOST, ipv6="none", encoding="gbk", routes=site.routes,
                    fallback=iis404, site_code=WRONG_CODE)
    plants = [Plant("tqjd", "column-blank", f"blank column {n} ({t or 'empty list'})", f"/List.asp?ClassID={cid}")
              for cid, (n, t) in BLANKS.items()]
    plants += [Plant("tqjd", "column-stale", f"{cols[c].name} newest item {d} days old", cols[c].url)
               for c, d in ((11, 25), (12, 200), (13, 230), (14, 400), (15, 420))]
    plants += [
        Plant("tqjd", "homepage-freshness", "newest home-page item is 25 days old (> 2 weeks: veto)", "/"),
        Plant("tqjd", "site-identity", "footer has no 网站标识码", "/"),
        Plant("tqjd", "site-identity", f"SiteIDCode {WRONG_CODE} is not in region 441500", "/"),
        Plant("tqjd", "interaction-response", "书记信箱 message answered after 3 months and 1 day (veto)", late.url),
        Plant("tqjd", "annual-report", "annual report uses the 2019 format (本年新制作数量)",
              max(cols[17].items, key=lambda it: it.date).url if cols[17].items else cols[17].url),
        Plant("tqjd", "ipv6", "no AAAA record", None),  # DNS evidence about the host: no page to point at
        Plant("tqjd", "website-annual-form", "no 政府网站工作年度报表 on the home page", "/"),
        Plant("tqjd", "regulations-column", "专栏 has no 规章 column nor a link to the city's 规章库", "/"),
        Plant("tqjd", "application-channel", "no 依申请公开 online form or 申请表 to download", "/"),
    ]
    return demo, plants
