"""The district portal www.hhw.gov.cn (TRS WCM style): the compliant reference site.

Everything here should pass: fresh home page, full identity footer, real IPv6, a complete
政府信息公开 专栏 (指南 with 20 working days, 制度, 法定主动公开内容, 年报 on time with correct
arithmetic, 依申请公开 form + 申请表), 规章 linking to the city/province 规章库 with 题注,
规范性文件 with 文号/dates/validity, 政策解读 linked both ways, 预决算 and 债务, 公报, 领导信箱.
"""

from __future__ import annotations

import datetime as dt
import html

from zwgk.demo import annual, board, content
from zwgk.demo.cms import CmsSite, Item, block, series
from zwgk.demo.layout import Identity
from zwgk.demo.model import DemoSite, Routes, host_url

e = html.escape
HOST = "www.hhw.gov.cn"
UNIT = "区党工委综合办公室"
NAME = "红海湾经济开发区门户网站"
SPONSOR = "红海湾经济开发区党工委综合办公室"
NAV = [("新闻中心", "/xwzx/"), ("政府信息公开", "/zwgk/"), ("政务服务", "/zwfw/"), ("互动交流", "/hdjl/"),
       ("东洲街道", "/dzjd/")]

IDENT = Identity(site_name=NAME, domain=HOST, sponsor=SPONSOR, phone="0660-3388001",
                 address="汕尾市红海湾经济开发区田墘街道海滨大道1号", site_code="4415000001",
                 footer_code="4415000001", icp="粤ICP备05012345号-1", police="44150202000101",
                 conac_id="0A3F9C12B7E84D56A1C2D3E4F5061728")

TOPICS = ["促进旅游业高质量发展若干措施", "乡村振兴示范带建设实施方案", "海上风电产业发展扶持办法",
          "城乡生活垃圾分类工作方案", "安全生产专项整治行动实施方案", "森林防灭火工作方案", "防汛防旱防风应急预案",
          "农村人居环境整治提升行动方案", "重点项目建设攻坚行动方案", "优化营商环境若干措施", "渔业安全生产管理办法",
          "耕地保护和粮食安全责任制考核办法", "中小学校舍安全保障工作方案", "社会救助工作实施细则",
          "养老服务体系建设实施方案", "就业创业补贴资金管理办法", "海洋生态环境保护工作方案", "文化旅游消费季活动方案",
          "全面推行河长制工作要点", "食品安全工作要点"]
NEWS = ["区党工委召开理论学习中心组专题学习会", "红海湾召开重点项目建设推进会", "遮浪旅游区开展安全生产大检查",
        "区领导带队检查防风防汛工作", "红海湾举行海上风电项目集中签约仪式", "田墘街道开展人居环境整治百日攻坚",
        "区管委会召开常务会议研究部署近期重点工作", "红海湾开展“平安海岸”专项行动", "东洲街道举办就业招聘会",
        "区发展和财政局开展财政资金直达基层专项检查", "红海湾举办渔民安全生产培训班", "区司法局开展“八五”普法宣传进社区"]


def _policies(site: CmsSite, today: dt.date) -> tuple[list[Item], list[Item]]:
    """政策文件 (35 items, three script-paginated pages) and their 政策解读 linked both ways.

    A district portal issues about one policy document a month: 12 in the last 12 months, each
    published with its 解读 (原文 ↔ 解读 links, tasks 13-15). The 23 older documents go back about
    three years; those older than two years predate the 解读 mechanism and have none.
    """
    policies = []
    days = [3 + 30 * i for i in range(12)] + [400 + 45 * k for k in range(23)]
    for i, ago in enumerate(days):
        day = today - dt.timedelta(days=ago)
        topic = TOPICS[i % len(TOPICS)]
        if i >= len(TOPICS):  # the same topic again: the earlier edition of the document
            topic = f"{day.year}年{topic}"
        policies.append(Item(f"红海湾经济开发区管委会关于印发《红海湾经济开发区{topic}》的通知", day,
                             info=[f"文号：红管〔{day.year}〕{40 - i}号"]))
    jds = []
    for policy in policies:
        if (today - policy.date).days > 730:
            policy.body = content_para(policy.title)
            continue
        name = policy.title.split("《")[1].split("》")[0]
        jds.append(interpret(site, "/zwgk/zcwj/", policy, name))
    return policies, jds


def interpret(site: CmsSite, col_path: str, doc: Item, name: str) -> Item:
    """A 解读 published with `doc`, each page linking to the other (原文 ↔ 解读)."""
    site.assign(col_path, doc)
    jd = Item(f"《{name}》政策解读", doc.date)
    site.assign("/zwgk/zcjd/", jd)
    jd.body = (f"<p>一、出台背景……二、主要内容……三、重要举措……</p>"
               f'<p>相关文件：<a href="{doc.url}">{e(doc.title)}</a></p>')
    doc.body = (doc.body or content_para(doc.title)) + f'<p>相关解读：<a href="{jd.url}">{e(jd.title)}</a></p>'
    return jd


def content_para(title: str) -> str:
    return (f"<p>各街道办事处，区直各单位：</p><p>现将{e(title.replace('关于印发', '').replace('的通知', ''))}"
            "印发给你们，请结合实际认真贯彻执行。</p><p>红海湾经济开发区管委会办公室</p>")


NORMATIVE = ["城市房屋征收与补偿实施办法", "农村宅基地审批管理办法", "渔港和渔船停泊点管理办法", "户外广告设置管理办法",
             "普惠性民办幼儿园扶持办法", "困难群众临时救助实施细则", "小型建设工程招标投标管理办法", "村级集体资产管理办法"]


def _normative(site: CmsSite, today: dt.date) -> tuple[list[Item], list[Item]]:
    """行政规范性文件 with 文号, 成文日期, 发布日期 and a validity mark (task 27), a few a year.

    Those of the last 12 months are policy documents too and carry their 解读 (tasks 13-15).
    """
    docs, jds = [], []
    states = ["有效", "有效", "有效", "修订", "有效", "失效", "有效", "废止"]
    for i, state in enumerate(states):
        day = today - dt.timedelta(days=20 + i * 140)
        written = day - dt.timedelta(days=6)
        doc = Item(f"红海湾经济开发区{NORMATIVE[i]}", day, info=[
            f"文号：红管规〔{day.year}〕{i + 1}号", f"成文日期：{written:%Y-%m-%d}", f"发布日期：{day:%Y-%m-%d}",
            f"有效性：{state}", f"有效期至：{day.year + 5}年{day.month}月{day.day}日"])
        docs.append(doc)
        if (today - day).days <= 730:
            jds.append(interpret(site, "/zwgk/gfxwj/", doc, doc.title))
    return docs, jds


def _regulations(today: dt.date) -> list[Item]:
    """A district has no rule-making power: 规章 are the city's, shown with their 题注 (task 26)."""
    regs = [("汕尾市城市市容和环境卫生管理规定", "汕尾市人民政府令第15号", 2019),
            ("汕尾市餐厨垃圾管理办法", "汕尾市人民政府令第21号", 2021),
            ("汕尾市海岸带保护与利用管理办法", "汕尾市人民政府令第27号", 2023)]
    items = []
    for i, (title, order, year) in enumerate(regs):
        items.append(Item(title, today - dt.timedelta(days=150 + 200 * i), info=[
            f"题注：（{year}年5月20日{order}公布　自{year}年7月1日起施行）"],
            body=f"<p>第一条　为了加强{e(title[3:-4])}工作……</p><p>第二条　本规定适用于本市行政区域……</p>"))
    return items


def build(today: dt.date) -> tuple[DemoSite, CmsSite]:
    routes = Routes()
    site = CmsSite(IDENT, routes, unit=UNIT, first_id=4512000, nav=NAV)
    Y = today.year
    news = site.column("/xwzx/hhwyw/", "红海湾要闻", series(NEWS, today - dt.timedelta(days=1), 4))
    notices = site.column("/xwzx/tzgg/", "通知公告", series(
        [f"关于{t}的公告" for t in (f"{Y}年度公开招聘事业单位工作人员", "开展防风防汛应急演练", "征集民生实事项目意见",
                                   "海滨大道施工期间交通管制", "开展消防安全隐患排查整治", "公布区级非物质文化遗产名录",
                                   "申报涉农补贴资金", "开展人口抽样调查")], today - dt.timedelta(days=2), 11))
    site.page("/xwzx/", "新闻中心", block("红海湾要闻", "/xwzx/hhwyw/", news) + block("通知公告", "/xwzx/tzgg/", notices),
              column="新闻中心", modified=news[0].date)
    zk = [("政府信息公开专栏", "/zwgk/")]
    policies, jds = _policies(site, today)
    site.column("/zwgk/zcwj/", "政策文件", policies, trail=zk)
    normative, normative_jds = _normative(site, today)
    jds = sorted(jds + normative_jds, key=lambda it: it.date, reverse=True)
    site.column("/zwgk/zcjd/", "政策解读", jds, trail=zk)
    site.column("/zwgk/gfxwj/", "行政规范性文件", normative, trail=zk,
                intro='<p class="note">本栏目集中公开本区现行有效行政规范性文件，并动态更新。</p>')
    regs = _regulations(today)
    regs.append(Item("汕尾市人民政府规章库", today - dt.timedelta(days=30),
                     link=host_url("swgov", "www.shanwei.gov.cn", "/zwgk/gzk/")))
    regs.append(Item("广东省人民政府规章库", today - dt.timedelta(days=30),
                     link=host_url("gdgov", "www.gd.gov.cn", "/zwgk/gzk/")))
    site.column("/zwgk/gz/", "规章", regs, trail=zk,
                intro="<p class=\"note\">本区无规章制定权。现行有效规章请查阅汕尾市、广东省人民政府规章库。</p>")
    site.page("/zwgk/zfxxgkzn/", "政府信息公开指南", content.guide_html("红海湾经济开发区管委会",
              revised=dt.date(Y - 1, 12, 1)), column="政府信息公开指南", trail=zk, modified=dt.date(Y - 1, 12, 1))
    site.column("/zwgk/zfxxgkzd/", "政府信息公开制度", [
        Item("红海湾经济开发区政府信息公开保密审查制度", dt.date(Y - 2, 6, 12)),
        Item("红海湾经济开发区政府信息公开申请办理工作规范", dt.date(Y - 2, 6, 12)),
        Item("红海湾经济开发区政策解读工作机制", dt.date(Y - 3, 9, 3))], trail=zk)
    reports = [Item(f"红海湾经济开发区{y}年政府信息公开工作年度报告", day, annual.report_html("红海湾经济开发区管委会", y))
               for y, day in content.report_dates(today, (3, 15), Y - 4)]
    site.column("/zwgk/zfxxgknb/", "政府信息公开年报", reports, trail=zk)
    routes.raw("/zwgk/ysqgk/W020210305_sqb.doc", content.DOC_BYTES, "application/msword", dt.date(Y - 3, 3, 5))
    site.page("/zwgk/ysqgk/", "依申请公开", content.application_html("/zwgk/ysqgk/submit",
              "/zwgk/ysqgk/W020210305_sqb.doc"), column="依申请公开", trail=zk)
    plans = [Item("红海湾经济开发区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要", dt.date(2021, 6, 18)),
             Item("红海湾经济开发区国土空间总体规划（2021-2035年）", today - dt.timedelta(days=260)),
             Item(f"红海湾经济开发区{Y}年国民经济和社会发展计划", dt.date(Y, 2, 20)),
             Item(f"红海湾经济开发区{Y - 1}年国民经济和社会发展计划", dt.date(Y - 1, 2, 22)),
             Item("红海湾经济开发区旅游发展专项规划（2022-2030年）", dt.date(2022, 8, 9))]
    site.column("/zwgk/ghjh/", "规划计划", [p for p in plans if p.date <= today], trail=zk)
    units = ["红海湾经济开发区", UNIT]
    money = (content.budget_items("红海湾经济开发区", today, range(Y - 5, Y + 1), month_day=(2, 28),
                                  title="{unit}{year}年财政预算报告")
             + content.budget_items(units[1], today, range(Y - 5, Y + 1))
             + content.final_items(units[1], today, range(Y - 6, Y))
             + content.final_items("红海湾经济开发区", today, range(Y - 6, Y), month_day=(8, 10),
                                   title="{unit}{year}年财政决算报告")
             + content.debt_items(today, range(Y - 4, Y + 1)))
    site.column("/zwgk/czyjs/", "财政预决算", money, trail=zk, per_page=60)
    site.column("/zwgk/zfgb/", "政府公报", [
        Item(f"红海湾经济开发区政府公报{d.year}年第{(d.month - 1) // 3 + 1}期", d)
        for d in (dt.date(y, m, 10) for y in (Y - 1, Y) for m in (1, 4, 7, 10)) if d <= today], trail=zk)
    simple = [("/zwgk/tjxx/", "统计信息", "{}红海湾经济开发区主要经济指标", 30),
              ("/zwgk/rsxx/", "人事信息", "红海湾经济开发区{}干部任前公示", 60),
              ("/zwgk/zdxm/", "重大建设项目", "红海湾经济开发区{}重点建设项目进展情况", 30),
              ("/zwgk/xzzf/", "行政执法公示", "红海湾经济开发区行政处罚信息公示（{}）", 20),
              ("/zwgk/fmqd/", "市场准入负面清单", "转发市场准入负面清单（{}）有关工作的通知", 120),
              ("/zwgk/hmhn/", "惠民惠农财政补贴资金", "{}惠民惠农财政补贴资金发放情况", 30),
              ("/zwgk/yqfk/", "疫情防控", "红海湾经济开发区疫情防控和公共卫生工作提示（{}）", 45),
              ("/zwgk/jgzn/", "机构职能", "红海湾经济开发区管委会工作部门职能配置（{}）", 200)]
    statutory = []
    for path, name, fmt, step in simple:
        items = [Item(fmt.format(f"{d:%Y年%-m月}"), d) for d in
                 (today - dt.timedelta(days=5 + k * step) for k in range(4))]
        site.column(path, name, items, trail=zk)
        statutory.append((name, path))
    fd = [("规章", "/zwgk/gz/"), ("行政规范性文件", "/zwgk/gfxwj/"), ("规划计划", "/zwgk/ghjh/"),
          ("财政预决算", "/zwgk/czyjs/"), *statutory]
    site.page("/zwgk/fdzdgknr/", "法定主动公开内容", '<ul class="sub-cols">' + "".join(
        f'<li><a href="{h}">{t}</a></li>' for t, h in fd) + "</ul>", column="法定主动公开内容", trail=zk)
    zwgk_cols = [("政府信息公开指南", "/zwgk/zfxxgkzn/"), ("政府信息公开制度", "/zwgk/zfxxgkzd/"),
                 ("法定主动公开内容", "/zwgk/fdzdgknr/"), ("政府信息公开年报", "/zwgk/zfxxgknb/"),
                 ("依申请公开", "/zwgk/ysqgk/"), ("政策文件", "/zwgk/zcwj/"), ("政策解读", "/zwgk/zcjd/"),
                 ("政府公报", "/zwgk/zfgb/"), *fd]
    site.page("/zwgk/", "政府信息公开", '<div class="zwgk-nav"><ul>' + "".join(
        f'<li><a href="{h}">{t}</a></li>' for t, h in zwgk_cols) + "</ul></div>"
        + block("政策文件", "/zwgk/zcwj/", policies) + block("政策解读", "/zwgk/zcjd/", jds),
        column="政府信息公开", modified=policies[0].date)
    msgs = _mailbox(site, today)
    site.page("/zwfw/", "政务服务", '<ul><li><a href="/zwfw/bszn/">办事指南</a></li></ul>', column="政务服务")
    site.page("/zwfw/bszn/", "办事指南", "<h2>个体工商户设立登记办事指南</h2><p>事项名称：个体工商户设立登记</p>"
              "<p>设定依据：《促进个体工商户发展条例》</p><p>申请条件：有经营能力的公民</p>"
              "<p>办理材料：身份证明、经营场所证明</p><p>办理时限：即办</p>", column="办事指南")
    reports_box = [Item(f"红海湾经济开发区门户网站{y}年政府网站工作年度报表", d)
                   for y, d in content.report_dates(today, (1, 18), Y - 3)]
    reports_box.sort(key=lambda it: it.date, reverse=True)   # newest first, as on the home page
    site.column("/zwgk/wzndbb/", "政府网站工作年度报表", reports_box, trail=zk)
    depts = "".join(f'<li><a href="{host_url(sid, h)}" target="_blank">{n}</a></li>' for sid, h, n in (
        ("fzj", "fzj.hhw.gov.cn", "区发展和财政局"), ("sfj", "sfj.hhw.gov.cn", "区司法局"),
        ("ggsy", "ggsy.hhw.gov.cn", "区公共事业局"), ("tqjd", "tqjd.hhw.gov.cn", "田墘街道办事处")))
    home = (block("红海湾要闻", "/xwzx/hhwyw/", news) + block("通知公告", "/xwzx/tzgg/", notices)
            + block("政策文件", "/zwgk/zcwj/", policies) + block("政策解读", "/zwgk/zcjd/", jds)
            + block("政府网站工作年度报表", "/zwgk/wzndbb/", reports_box, limit=1)
            + '<div class="box"><h3>互动交流</h3><ul><li><a href="/hdjl/ldxx/">领导信箱</a></li>'
            f'<li><a href="{host_url("gdgov", "www.gd.gov.cn", "/hdjl/12345/")}" target="_blank">'
            "12345政务服务便民热线</a></li></ul>"
            + board.list_layout(msgs[:3]) + "</div>"
            + f'<div class="box links"><h3>部门网站</h3><ul>{depts}</ul></div>')
    site.page("/", NAME, home, modified=news[0].date)
    routes["/index.html"] = routes["/"]
    routes.raw("/robots.txt", ("User-agent: *\nAllow: /\nSitemap: " + host_url("portal", HOST, "/sitemap.xml")
                               + "\n").encode(), "text/plain; charset=utf-8")
    site.page("/wzdt/", "网站地图", "<ul>" + "".join(f'<li><a href="{h}">{t}</a></li>' for t, h in NAV + zwgk_cols)
              + "</ul>", column="网站地图")
    demo = DemoSite("portal", NAME, UNIT, "portal", HOST, ipv6="real", routes=routes, site_code="4415000001")
    return demo, site


def _mailbox(site: CmsSite, today: dt.date) -> list[board.Message]:
    msgs = board.messages(today, [(3, None), (12, 5), (35, 7), (70, 12), (110, 9), (160, 15), (220, 6), (300, 10)])
    for m in msgs:
        m.url = f"/hdjl/ldxx/content_{m.no}.html"
        site.page(m.url, m.title, board.detail_html(m), column="领导信箱",
                  trail=[("互动交流", "/hdjl/"), ("领导信箱", "/hdjl/ldxx/")], modified=m.replied or m.received)
    site.page("/hdjl/ldxx/", "领导信箱", "<p>欢迎您通过领导信箱反映问题、提出意见建议。</p>" + board.list_layout(msgs),
              column="领导信箱", trail=[("互动交流", "/hdjl/")], modified=msgs[0].received)
    # The 互动交流 landing page shows what its sub-columns hold (newest letters), as real portals do.
    site.page("/hdjl/", "互动交流", '<div class="box"><div class="box-hd"><h3>领导信箱</h3>'
              '<a class="more" href="/hdjl/ldxx/">更多&gt;&gt;</a></div>' + board.list_layout(msgs[:5]) + "</div>"
              '<div class="box"><h3>便民热线</h3><p><a href="' + host_url("gdgov", "www.gd.gov.cn", "/hdjl/12345/")
              + '" target="_blank">12345政务服务便民热线</a>：政务咨询、投诉举报、意见建议，7×24小时受理。</p></div>',
              column="互动交流", modified=msgs[0].received)
    return msgs


def sitemap(routes: Routes) -> None:
    """sitemap.xml over every HTML page (called last, once all columns exist)."""
    urls = sorted(p for p, r in routes.items() if r.headers.get("Content-Type", "").startswith("text/html"))
    body = "".join(f"<url><loc>{e(host_url('portal', HOST, p))}</loc></url>" for p in urls)
    routes.raw("/sitemap.xml", ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
                                f'"http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>\n').encode(),
               "application/xml")
