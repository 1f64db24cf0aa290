"""政府信息公开工作年度报告 content for the demo (docs/DOMAIN.md §7).

Numbers are deterministic per (unit, year) and internally consistent: A1 一+二 = 三(七)+四 per
column, A2 总计 = sum of applicant columns, A3 (七) = sum of sub-rows, A4 table 四 totals, A5 the
text restates the table, A6 the year agrees, A7 this year's 上年结转 = last year's 结转下年度.
`a1_error` breaks A1 on purpose (the 总计 of 三(七) off by one), `fmt="2019"` emits the old
国办公开办函〔2019〕60号 trial format (本年新制作数量 …) that reports on 2021 and later must not use.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass

APPLICANTS = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
WITHHOLD = ["1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”", "4.保护第三方合法权益",
            "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项"]
UNABLE = ["1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确"]
NOT_HANDLED = ["1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物", "4.无正当理由大量反复申请",
               "5.要求行政机关确认或重新出具已获取信息"]
OTHER_2021 = ["1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
              "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他"]
HEADINGS = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
            "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]
REVIEW = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]

e = html.escape
Row = list[int]  # one value per applicant column, 总计 appended by _with_total


def _carry_out(unit: str, year: int) -> Row:
    rng = random.Random(f"{unit}|{year}|carry")
    return [rng.choice([0, 1, 2]), rng.choice([0, 1]), 0, 0, 0, 0]


@dataclass
class Numbers:
    year: int
    new: Row
    carry_in: Row
    results: dict[str, Row]  # result row label → per-applicant counts (order = table order)
    carry_out: Row
    normative: tuple[int, int, int]  # 本年制发, 本年废止, 现行有效
    permits: int
    penalties: int
    coercion: int
    fees: float
    review: list[int]  # 行政复议 5 + 直接起诉 5 + 复议后起诉 5, 总计 consistent

    @property
    def total7(self) -> Row:
        return [sum(col) for col in zip(*self.results.values(), strict=True)]


def numbers(unit: str, year: int, fmt: str = "2021") -> Numbers:
    rng = random.Random(f"{unit}|{year}")
    other = OTHER_2021 if fmt == "2021" else ["其他处理"]
    labels = ["（一）予以公开", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
              *WITHHOLD, *UNABLE, *NOT_HANDLED, *[f"（六）{o}" if fmt != "2021" else o for o in other]]
    scale = [1.0, 0.4, 0, 0, 0.2, 0.2]
    results = {label: [0] * 6 for label in labels}
    for j, s in enumerate(scale):
        if not s:
            continue
        results[labels[0]][j] = max(1, round(rng.randint(3, 12) * s))
        results[labels[1]][j] = round(rng.randint(0, 3) * s)
        results[WITHHOLD[3]][j] = round(rng.randint(0, 2) * s)
        results[UNABLE[0]][j] = round(rng.randint(1, 4) * s)
        results[NOT_HANDLED[1]][j] = round(rng.randint(0, 1) * s)
        results[labels[-1]][j] = round(rng.randint(0, 1) * s)
    carry_in, carry_out = _carry_out(unit, year - 1), _carry_out(unit, year)
    total = [sum(col) for col in zip(*results.values(), strict=True)]
    new = [t + co - ci for t, co, ci in zip(total, carry_out, carry_in, strict=True)]
    for j, v in enumerate(new):
        if v < 0:  # more carried in than handled: handle the surplus as 予以公开
            results[labels[0]][j] -= v
            new[j] = 0
    review = []
    for _ in range(3):
        parts = [rng.randint(0, 2), rng.randint(0, 1), 0, rng.randint(0, 1)]
        review += parts + [sum(parts)]
    return Numbers(year, new, carry_in, results, carry_out,
                   (rng.randint(1, 6), rng.randint(0, 2), rng.randint(8, 30)),
                   rng.randint(20, 400), rng.randint(0, 60), rng.randint(0, 5),
                   round(rng.uniform(0, 30), 2), review)


def _tot(row: Row) -> list[int]:
    return [*row, sum(row)]


def _cells(values: list[int]) -> str:
    return "".join(f"<td>{v}</td>" for v in values)


def table3(n: Numbers, *, a1_error: bool = False, fmt: str = "2021") -> str:
    head = ('<tr><td colspan="3" rowspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>'
            '<td colspan="7">申请人情况</td></tr>'
            '<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>'
            "<tr>" + "".join(f"<td>{a}</td>" for a in APPLICANTS[1:]) + "</tr>")
    rows = [f'<tr><td colspan="3">一、本年新收政府信息公开申请数量</td>{_cells(_tot(n.new))}</tr>',
            f'<tr><td colspan="3">二、上年结转政府信息公开申请数量</td>{_cells(_tot(n.carry_in))}</tr>']
    labels = list(n.results)
    groups = [("（三）不予公开", WITHHOLD), ("（四）无法提供", UNABLE), ("（五）不予处理", NOT_HANDLED)]
    if fmt == "2021":
        groups.append(("（六）其他处理", OTHER_2021))
    span = len(labels) + 1
    first = True

    def lead() -> str:
        nonlocal first
        if first:
            first = False
            return f'<td rowspan="{span}">三、本年度办理结果</td>'
        return ""

    for label in labels[:2]:
        rows.append(f'<tr>{lead()}<td colspan="2">{label}</td>{_cells(_tot(n.results[label]))}</tr>')
    for group, subs in groups:
        for i, sub in enumerate(subs):
            g = f'<td rowspan="{len(subs)}">{group}</td>' if i == 0 else ""
            rows.append(f"<tr>{lead()}{g}<td>{e(sub)}</td>{_cells(_tot(n.results[sub]))}</tr>")
    if fmt != "2021":
        rows.append(f'<tr>{lead()}<td colspan="2">{labels[-1]}</td>{_cells(_tot(n.results[labels[-1]]))}</tr>')
    total = _tot(n.total7)
    if a1_error:
        total[-1] += 1  # the planted A1 error: 三(七) 总计 no longer equals 一 + 二 − 四
    rows.append(f'<tr>{lead()}<td colspan="2">（七）总计</td>{_cells(total)}</tr>')
    rows.append(f'<tr><td colspan="3">四、结转下年度继续办理</td>{_cells(_tot(n.carry_out))}</tr>')
    return f'<table class="report-table" border="1">{head}{"".join(rows)}</table>'


def table2(n: Numbers, fmt: str = "2021") -> str:
    made, repealed, valid = n.normative
    if fmt == "2021":
        return ('<table class="report-table" border="1">'
                '<tr><td colspan="4">第二十条第（一）项</td></tr>'
                "<tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>"
                "<tr><td>规章</td><td>0</td><td>0</td><td>0</td></tr>"
                f"<tr><td>行政规范性文件</td><td>{made}</td><td>{repealed}</td><td>{valid}</td></tr>"
                '<tr><td colspan="4">第二十条第（五）项</td></tr>'
                '<tr><td>信息内容</td><td colspan="3">本年处理决定数量</td></tr>'
                f'<tr><td>行政许可</td><td colspan="3">{n.permits}</td></tr>'
                '<tr><td colspan="4">第二十条第（六）项</td></tr>'
                '<tr><td>信息内容</td><td colspan="3">本年处理决定数量</td></tr>'
                f'<tr><td>行政处罚</td><td colspan="3">{n.penalties}</td></tr>'
                f'<tr><td>行政强制</td><td colspan="3">{n.coercion}</td></tr>'
                '<tr><td colspan="4">第二十条第（八）项</td></tr>'
                '<tr><td>信息内容</td><td colspan="3">本年收费金额（单位：万元）</td></tr>'
                f'<tr><td>行政事业性收费</td><td colspan="3">{n.fees}</td></tr></table>')
    return ('<table class="report-table" border="1">'
            '<tr><td colspan="4">第二十条第（一）项</td></tr>'
            "<tr><td>信息内容</td><td>本年新制作数量</td><td>本年新公开数量</td><td>对外公开总数量</td></tr>"
            "<tr><td>规章</td><td>0</td><td>0</td><td>0</td></tr>"
            f"<tr><td>规范性文件</td><td>{made}</td><td>{made}</td><td>{valid}</td></tr>"
            '<tr><td colspan="4">第二十条第（五）项</td></tr>'
            "<tr><td>信息内容</td><td>上一年项目数量</td><td>本年增/减</td><td>处理决定数量</td></tr>"
            f"<tr><td>行政许可</td><td>12</td><td>0</td><td>{n.permits}</td></tr>"
            "<tr><td>其他对外管理服务事项</td><td>3</td><td>0</td><td>5</td></tr>"
            '<tr><td colspan="4">第二十条第（六）项</td></tr>'
            "<tr><td>信息内容</td><td>上一年项目数量</td><td>本年增/减</td><td>处理决定数量</td></tr>"
            f"<tr><td>行政处罚</td><td>4</td><td>0</td><td>{n.penalties}</td></tr>"
            f"<tr><td>行政强制</td><td>1</td><td>0</td><td>{n.coercion}</td></tr>"
            '<tr><td colspan="4">第二十条第（八）项</td></tr>'
            '<tr><td>信息内容</td><td>上一年项目数量</td><td colspan="2">本年增/减</td></tr>'
            '<tr><td>行政事业性收费</td><td>2</td><td colspan="2">0</td></tr>'
            '<tr><td colspan="4">第二十条第（九）项</td></tr>'
            '<tr><td>信息内容</td><td>采购项目数量</td><td colspan="2">采购总金额</td></tr>'
            '<tr><td>政府集中采购</td><td>6</td><td colspan="2">183.5</td></tr></table>')


def table4(n: Numbers) -> str:
    return ('<table class="report-table" border="1">'
            '<tr><td colspan="5">行政复议</td><td colspan="10">行政诉讼</td></tr>'
            + "<tr>" + "".join(f'<td rowspan="2">{r}</td>' for r in REVIEW)
            + '<td colspan="5">未经复议直接起诉</td><td colspan="5">复议后起诉</td></tr>'
            + "<tr>" + "".join(f"<td>{r}</td>" for r in REVIEW * 2) + "</tr>"
            + f"<tr>{_cells(n.review)}</tr></table>")


def summary(unit: str, n: Numbers) -> str:
    new, carry = sum(n.new), sum(n.carry_in)
    return (f"{n.year}年，{unit}认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外，"
            f"全年主动公开政府信息{120 + n.permits // 4}条。全年共收到政府信息公开申请{new}件，"
            f"上年结转{carry}件，办结{sum(n.total7)}件，结转下年度继续办理{sum(n.carry_out)}件。")


def report_html(unit: str, year: int, *, fmt: str = "2021", a1_error: bool = False) -> str:
    """The body of the report page: six headings, text, tables 二 三 四."""
    n = numbers(unit, year, fmt)
    parts = [f"<h2>{e(unit)}{year}年政府信息公开工作年度报告</h2>",
             ("<p>本报告根据《中华人民共和国政府信息公开条例》要求编制。本报告中所列数据的统计期限自"
              f"{year}年1月1日起至{year}年12月31日止。</p>"),
             f"<h3>{HEADINGS[0]}</h3><p>{summary(unit, n)}</p>",
             f"<h3>{HEADINGS[1]}</h3>{table2(n, fmt)}",
             f"<h3>{HEADINGS[2]}</h3>{table3(n, a1_error=a1_error, fmt=fmt)}",
             f"<h3>{HEADINGS[3]}</h3>{table4(n)}",
             (f"<h3>{HEADINGS[4]}</h3><p>一是政策解读形式还不够丰富；二是信息更新还不够及时。下一步，"
              "我们将加强业务培训，健全信息发布审核机制。</p>"),
             f"<h3>{HEADINGS[5]}</h3><p>本年度未收取信息处理费。无其他需要报告的事项。</p>"]
    return "\n".join(parts)


def report_lines(unit: str, year: int) -> list[str]:
    """The same 2021-format report as plain text lines (for the PDF edition)."""
    n = numbers(unit, year)
    made, repealed, valid = n.normative
    lines = [f"{unit}{year}年政府信息公开工作年度报告", "",
             f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。", HEADINGS[0]]
    text = summary(unit, n)
    lines += [text[i:i + 40] for i in range(0, len(text), 40)]
    lines += [HEADINGS[1], "信息内容 本年制发件数 本年废止件数 现行有效件数", "规章 0 0 0",
              f"行政规范性文件 {made} {repealed} {valid}", f"行政许可 {n.permits}", f"行政处罚 {n.penalties}",
              f"行政强制 {n.coercion}", f"行政事业性收费 {n.fees}", HEADINGS[2],
              "申请人情况：自然人 商业企业 科研机构 社会公益组织 法律服务机构 其他 总计",
              "一、本年新收政府信息公开申请数量 " + " ".join(map(str, _tot(n.new))),
              "二、上年结转政府信息公开申请数量 " + " ".join(map(str, _tot(n.carry_in)))]
    lines += [f"{label} " + " ".join(map(str, _tot(row))) for label, row in n.results.items()]
    lines += ["（七）总计 " + " ".join(map(str, _tot(n.total7))),
              "四、结转下年度继续办理 " + " ".join(map(str, _tot(n.carry_out))),
              HEADINGS[3], "行政复议 " + " ".join(map(str, n.review[:5])),
              "行政诉讼 " + " ".join(map(str, n.review[5:])), HEADINGS[4],
              "一是政策解读形式还不够丰富；二是信息更新还不够及时。", HEADINGS[5], "本年度未收取信息处理费。"]
    return lines
