"""Disclosure content shared by the demo sites: 预决算, 债务, 年报 items, 指南, 依申请公开.

Every date is derived from the audit day `today` so the demo never goes stale. The disclosure
calendar mirrors the defaults the checks are expected to use (docs/DOMAIN.md §6-7): current-year
budget due by 04-30, previous-year final accounts by 09-30, department annual reports by 01-31,
the government's own report by 03-31.
"""

from __future__ import annotations

import datetime as dt
import html
import random
from collections.abc import Iterable
from pathlib import Path

from zwgk.demo.cms import Item

e = html.escape
DISTRICT = "红海湾经济开发区"


def due_budget_year(today: dt.date) -> int:
    """The newest budget year that must already be public."""
    return today.year if today > dt.date(today.year, 4, 30) else today.year - 1


def due_final_year(today: dt.date) -> int:
    """The newest final-accounts year that must already be public."""
    return today.year - 1 if today > dt.date(today.year, 9, 30) else today.year - 2


def _money_table(caption: str, rows: list[tuple[str, float]], unit: str = "万元") -> str:
    body = "".join(f"<tr><td>{e(name)}</td><td>{v:.2f}</td></tr>" for name, v in rows)
    total = sum(v for _, v in rows)
    return (f'<p class="table-title">{e(caption)}</p><table border="1" class="czyjs"><tr><td>项目</td>'
            f"<td>金额（{unit}）</td></tr>{body}<tr><td>合计</td><td>{total:.2f}</td></tr></table>")


def budget_body(unit: str, year: int, approved: dt.date) -> str:
    rng = random.Random(f"{unit}|budget|{year}")
    basic, project = rng.uniform(300, 900), rng.uniform(100, 600)
    travel, cars, reception = 0.0, rng.uniform(2, 12), rng.uniform(0.5, 4)
    return (f"<p>根据《中华人民共和国预算法》及其实施条例规定，经区发展和财政局批复（红财预〔{year}〕"
            f"{rng.randint(3, 40)}号，{approved:%Y年%-m月%-d日}批复），现将{e(unit)}{year}年部门预算公开如下。</p>"
            + _money_table("表一 部门收支总表", [("一般公共预算拨款收入", basic + project)])
            + _money_table("表二 部门收入总表", [("财政拨款收入", basic + project), ("其他收入", 0.0)])
            + _money_table("表三 部门支出总表", [("基本支出", basic), ("项目支出", project)])
            + _money_table("表四 财政拨款收支总表", [("一般公共预算", basic + project)])
            + _money_table("表五 一般公共预算支出表", [("基本支出", basic), ("项目支出", project)])
            + _money_table("表六 一般公共预算基本支出表", [("人员经费", basic * 0.7), ("公用经费", basic * 0.3)])
            + _money_table("表七 一般公共预算“三公”经费支出表",
                           [("因公出国（境）费", travel), ("公务用车购置及运行费", cars), ("公务接待费", reception)])
            + "<p class=\"table-title\">表八 政府性基金预算支出表</p><p>本部门" + f"{year}"
            "年度无政府性基金预算财政拨款安排的支出，故本表为空表。</p>"
            "<p class=\"table-title\">表九 国有资本经营预算支出表</p><p>本部门无国有资本经营预算支出，故本表为空表。</p>")


def final_body(unit: str, year: int) -> str:
    rng = random.Random(f"{unit}|final|{year}")
    basic, project = rng.uniform(300, 900), rng.uniform(100, 600)
    cars, reception = rng.uniform(2, 12), rng.uniform(0.5, 4)
    return (f"<p>现将{e(unit)}{year}年度部门决算公开如下。</p>"
            + _money_table("表一 收入支出决算总表", [("本年收入合计", basic + project)])
            + _money_table("表二 收入决算表", [("财政拨款收入", basic + project)])
            + _money_table("表三 支出决算表", [("基本支出", basic), ("项目支出", project)])
            + _money_table("表四 财政拨款收入支出决算总表", [("一般公共预算财政拨款", basic + project)])
            + _money_table("表五 一般公共预算财政拨款支出决算表", [("基本支出", basic), ("项目支出", project)])
            + _money_table("表六 一般公共预算财政拨款基本支出决算表",
                           [("人员经费", basic * 0.72), ("公用经费", basic * 0.28)])
            + _money_table("表七 一般公共预算财政拨款“三公”经费支出决算表",
                           [("因公出国（境）费", 0.0), ("公务用车购置及运行费", cars), ("公务接待费", reception)])
            + "<p class=\"table-title\">表八 政府性基金预算财政拨款收入支出决算表</p>"
            "<p>本单位本年度无政府性基金预算财政拨款收入支出，故本表为空表。</p>"
            "<p class=\"table-title\">表九 国有资本经营预算财政拨款支出决算表</p>"
            "<p>本单位本年度无国有资本经营预算财政拨款支出，故本表为空表。</p>")


def budget_items(unit: str, today: dt.date, years: Iterable[int], *, month_day: tuple[int, int] = (3, 20),
                 title: str = "{unit}{year}年部门预算") -> list[Item]:
    """One 部门预算 item per year, published on month_day of that year, 15 days after 批复."""
    items = []
    for year in years:
        day = dt.date(year, *month_day)
        if day <= today:
            items.append(Item(title.format(unit=unit, year=year), day,
                              budget_body(unit, year, day - dt.timedelta(days=15))))
    return items


def final_items(unit: str, today: dt.date, years: range, *, month_day: tuple[int, int] = (8, 20),
                title: str = "{unit}{year}年部门决算") -> list[Item]:
    """One 部门决算 item per year, published on month_day of the following year."""
    items = []
    for year in years:
        day = dt.date(year + 1, *month_day)
        if day <= today:
            items.append(Item(title.format(unit=unit, year=year), day, final_body(unit, year)))
    return items


def debt_items(today: dt.date, years: range) -> list[Item]:
    """财预〔2018〕209号: 限额/余额 and 发行/还本付息 with the budget, 存续期 information by 06-30."""
    items = []
    for year in years:
        rng = random.Random(f"debt|{year}")
        limit = rng.uniform(18, 25)
        balance = limit * rng.uniform(0.8, 0.95)
        issued, principal, interest = rng.uniform(1, 4), rng.uniform(0.5, 2), rng.uniform(0.3, 0.8)
        day = dt.date(year, 3, 25)
        if day <= today:
            items.append(Item(f"{DISTRICT}{year}年地方政府债务限额及余额情况", day,
                              f"<p>{year}年全区地方政府债务限额{limit:.2f}亿元，截至{year - 1}年末债务余额"
                              f"{balance:.2f}亿元，控制在限额以内。</p>"
                              + _money_table("地方政府债务限额及余额情况表",
                                             [("一般债务限额", limit * 0.6), ("专项债务限额", limit * 0.4)], "亿元")))
            items.append(Item(f"{DISTRICT}{year}年地方政府债券发行及还本付息情况", day,
                              f"<p>{year}年计划发行地方政府债券{issued:.2f}亿元，还本{principal:.2f}亿元，"
                              f"付息{interest:.2f}亿元。偿债资金来源为一般公共预算收入和政府性基金收入。</p>"
                              + _money_table("地方政府债券发行及还本付息情况表",
                                             [("新增债券发行额", issued), ("还本额", principal), ("付息额", interest)],
                                             "亿元")))
        day = dt.date(year, 6, 20)
        if day <= today:
            items.append(Item(f"{DISTRICT}{year}年政府债券存续期信息公开", day,
                              "<p>现将本区政府债券品种、期限、利率、偿还计划及偿债资金来源等存续期信息公开如下。</p>"
                              "<table border=\"1\"><tr><td>债券名称</td><td>品种</td><td>期限</td><td>利率</td></tr>"
                              f"<tr><td>{year - 1}年广东省政府专项债券（二十期）</td><td>专项债券</td><td>10年</td>"
                              "<td>3.12%</td></tr></table>"))
    return items


def report_dates(today: dt.date, month_day: tuple[int, int], first_year: int) -> list[tuple[int, dt.date]]:
    """(report year, publication day) for every report already published by `today`."""
    out = []
    for year in range(first_year, today.year):
        day = dt.date(year + 1, *month_day)
        if day <= today:
            out.append((year, day))
    return out


def guide_html(unit: str, *, days: int = 20, revised: dt.date | None = None) -> str:
    """政府信息公开指南. `days` = 15 reproduces a guide never updated for the 2019 条例."""
    extend = "15个工作日" if days == 15 else "20个工作日"
    fee = ("<p>行政机关依申请提供政府信息，不收取费用。但是，申请人申请公开政府信息的数量、频次明显超过合理范围的，"
           "行政机关可以收取信息处理费，具体按照《国务院办公厅关于印发〈政府信息公开信息处理费管理办法〉的通知》"
           "（国办函〔2020〕109号）执行。</p>") if days == 20 else \
        "<p>提供政府信息，可以收取检索、复制、邮寄等成本费用。</p>"
    when = f"（{revised:%Y年%-m月}修订）" if revised else ""
    return (f"<h2>{e(unit)}政府信息公开指南{when}</h2>"
            "<p>为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》，编制本指南。</p>"
            "<h3>一、主动公开</h3><p>主动公开的政府信息通过本网站政府信息公开专栏、政府公报、新闻发布会等途径公开。"
            "属于主动公开范围的政府信息，自该政府信息形成或者变更之日起20个工作日内予以公开。</p>"
            "<h3>二、依申请公开</h3><p>公民、法人或者其他组织可以通过在线申请、信函、当面等方式提出申请。</p>"
            f"<p>能够当场答复的，当场予以答复。不能当场答复的，自收到申请之日起{days}个工作日内予以答复；"
            f"需要延长答复期限的，经政府信息公开工作机构负责人同意并告知申请人，延长的期限最长不超过"
            f"{extend}。</p>{fee}"
            "<h3>三、监督和救济</h3><p>申请人认为行政机关在政府信息公开工作中侵犯其合法权益的，可以依法申请行政复议"
            "或者提起行政诉讼。</p>"
            f"<h3>四、联系方式</h3><p>受理机构：{e(unit)}政务公开办公室　办公时间：工作日上午8:30-12:00，下午14:30-17:30</p>")


def application_html(form_action: str, form_doc: str) -> str:
    """依申请公开: an online form plus the downloadable 申请表 (docs/DOMAIN.md §8, tasks 36-38)."""
    return ("<h2>依申请公开</h2><p>申请人可通过在线申请或下载申请表填写后以信函方式提交。</p>"
            f'<form class="ysqgk-form" action="{e(form_action)}" method="post">'
            '<label>申请人类型<select name="sqrlx"><option>公民</option><option>法人或其他组织</option></select></label>'
            '<label>姓名<input name="xm" type="text"></label><label>证件号码<input name="zjhm" type="text"></label>'
            '<label>联系电话<input name="lxdh" type="text"></label>'
            '<label>所需信息的内容描述<textarea name="nrms"></textarea></label>'
            '<label>获取信息的方式<select name="hqfs"><option>电子邮件</option><option>邮寄</option></select></label>'
            '<button type="submit">提交申请</button></form>'
            f'<p>附件：<a href="{e(form_doc)}">政府信息公开申请表.doc</a></p>'
            "<p>收费标准：按照《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）执行，同一申请人一个自然月内"
            "累计申请10件以下（含10件）的，不收费。</p>")


# a real Word 97 application form (tests/fixtures/worddoc/make_docs.sh), read by the privacy and
# wording checks like any .doc attachment: blank fields, no personal data
DOC_BYTES = (Path(__file__).parent / "sqb.doc").read_bytes()
