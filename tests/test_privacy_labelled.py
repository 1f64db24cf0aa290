"""Labelled set for the personal-data detectors (core.parsing.privacy) and the leader lexicon.

Each snippet is real-shaped — 低保/补贴 公示 tables, 处罚决定书, notices with an office's contact line,
tables flattened by a PDF text layer, XLSX 名单 attachments — and lists the numbers a person should be
shown (true candidates); everything else in it (统一社会信用代码, 订单号, 流水号, dates, 文号, masked
numbers, an office's hotline or bank account, serials) must not be reported. The test prints precision
and recall per detector and asserts them above a floor, so a change that trades one for the other shows.

Numbers are generated here with an independent implementation of GB 11643 and Luhn (not the module's),
from fictional area codes and dates: no real person's number is in this file.
"""
from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import date

import openpyxl
import pytest

from core.lexicon import Leader, Lexicon, match_text
from core.parsing.doctext import html_lines, read_document, text_lines
from core.parsing.privacy import Line, detect, mask_number, mask_text

TODAY = date(2026, 11, 27)


def gen_id(area: str, born: str, seq: str) -> str:
    body = area + born + seq
    w = [2 ** (17 - i) % 11 for i in range(17)]          # GB 11643 weights, derived not copied
    return body + "10X98765432"[sum(int(c) * k for c, k in zip(body, w, strict=True)) % 11]


def gen_card(prefix: str, length: int = 19) -> str:
    body = (prefix + "3141592653589793238462")[: length - 1]
    digits = [int(c) for c in body]
    total = 0
    for i, d in enumerate(reversed(digits)):       # Luhn: double every second digit from the right
        total += (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d
    return body + str((10 - total % 10) % 10)


def bad_check(n: str) -> str:
    last = "0123456789X"
    return n[:-1] + last[(last.index(n[-1]) + 1) % 11]


ID1, ID2, ID3 = gen_id("441502", "19630512", "021"), gen_id("441581", "19780930", "114"), gen_id("441521", "19451101", "263")
ID4, ID5, ID6 = gen_id("440902", "19900228", "057"), gen_id("441502", "20120718", "009"), gen_id("445281", "19570303", "482")
M1, M2, M3, M4 = "13826601234", "15915209876", "18718451845", "13690012345"
C1, C2, C3 = gen_card("621700"), gen_card("622202", 19), gen_card("6228480", 19)
C4 = gen_card("4367", 16)
LUHN_ORDER = gen_card("5200", 16)


@dataclass
class Snippet:
    name: str
    body: str | bytes
    expect: list[tuple[str, str]]       # (kind, full number) a person should be shown
    kind: str = "html"                  # html | text (a PDF's text layer) | xlsx
    title: str = ""


def table(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    cells = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<html><body><h1>{caption}</h1><table><tr>{cells}</tr>{body}</table></body></html>"


def xlsx(rows: list[list[object]], sheet: str = "名单") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


SNIPPETS: list[Snippet] = [
    # ---- true candidates: 公示 tables ------------------------------------------------------------
    Snippet("低保公示表：身份证号列", table(["序号", "户主姓名", "身份证号码", "保障人口", "月保障金（元）"],
            [["1", "陈某某", ID1, "3", "1260"], ["2", "林某", ID2, "1", "650"]], "2026年10月城乡低保对象公示"),
            [("id", ID1), ("id", ID2)]),
    Snippet("低保公示表：身份证号与联系电话", table(["序号", "姓名", "身份证号", "联系电话", "救助类别"],
            [["1", "黄某", ID3, M1, "特困"], ["2", "郑某某", ID4, M2, "低保"]], "特困人员救助名单公示"),
            [("id", ID3), ("id", ID4), ("mobile", M1), ("mobile", M2)]),
    Snippet("补贴发放表：银行卡号列", table(["序号", "姓名", "补贴金额", "银行卡号"],
            [["1", "吴某", "1500", C1], ["2", "许某", "1500", C2]], "2026年耕地地力保护补贴发放名单"),
            [("bank", C1), ("bank", C2)]),
    Snippet("补贴表：社保卡号与手机", table(["姓名", "社保卡号", "手机号码", "金额"],
            [["蔡某", C3, M3, "300"]], "高龄老人津贴发放花名册"), [("bank", C3), ("mobile", M3)]),
    Snippet("慰问名单：小写x身份证", table(["序号", "姓名", "公民身份号码"], [["1", "刘某", ID5.lower()]],
            "春节困难群众慰问名单"), [("id", ID5)]),
    Snippet("拆迁补偿公示：空格分隔的手机号", table(["被征收人", "联系方式", "补偿金额（元）"],
            [["王某", "138 2660 1234", "215000"]], "房屋征收补偿公示"), [("mobile", M1)]),
    Snippet("补助表：空格分隔的银行卡号", table(["领取人", "开户行", "账号"],
            [["李某", "农业银行", " ".join([C3[i:i + 4] for i in range(0, 19, 4)])]], "临时救助资金发放"),
            [("bank", C3)]),
    Snippet("残疾人补贴：已脱敏与未脱敏混排", table(["姓名", "身份证号", "电话"],
            [["赵某", "4415**********021X", "139****1845"], ["钱某", ID6, M4]], "残疾人两项补贴名单"),
            [("id", ID6), ("mobile", M4)]),
    Snippet("表头在第二行（标题行合并）", "<table><tr><td colspan=3>2026年第三季度低保金发放表</td></tr>"
            f"<tr><td>姓名</td><td>身份证</td><td>电话</td></tr><tr><td>孙某</td><td>{ID2}</td><td>{M2}</td></tr>"
            "</table>", [("id", ID2), ("mobile", M2)]),
    Snippet("资助名单：学生身份证", table(["学生姓名", "学校", "身份证号"], [["周某", "田墘中学", ID5]],
            "家庭经济困难学生资助名单"), [("id", ID5)]),
    # ---- true candidates: prose ------------------------------------------------------------------
    Snippet("行政处罚决定书：当事人信息",
            f"<p>当事人：张某某，性别：男，身份证号码：{ID1}，住址：红海湾经济开发区田墘街道，联系电话：{M3}。</p>",
            [("id", ID1), ("mobile", M3)]),
    Snippet("不予受理决定书：申请人手机",
            f"<p>申请人：李某，联系电话：{M4}。经审查，你（单位）提出的申请不属于本机关负责公开的政府信息。</p>",
            [("mobile", M4)]),
    Snippet("正文中身份证号（无标签）", f"<p>经核查，{ID6}号申请人的房屋位于规划红线内。</p>", [("id", ID6)]),
    Snippet("收款账户为个人", f"<p>请将补偿款汇入被征收人个人账户，账号：{C2}，户名：王某。</p>", [("bank", C2)]),
    Snippet("公告中列出身份证号的遗失声明", f"<p>遗失声明：陈某某不慎遗失居民身份证，身份证号：{ID4}，特此声明作废。</p>",
            [("id", ID4)]),
    # ---- true candidates: PDF text layer (table cells flattened to lines) ------------------------
    Snippet("PDF低保名单（扁平行）", f"1 陈某某 {ID1} 3 1260\n2 林某 {ID2} 1 650\n3 黄某 {ID3} 2 980",
            [("id", ID1), ("id", ID2), ("id", ID3)], "text", "2026年10月低保对象名单"),
    Snippet("PDF补贴名单：手机与卡号在同一行", f"序号 姓名 手机 银行卡号 金额\n1 吴某 {M1} {C1} 1500\n2 许某 {M2} {C4} 1500",
            [("mobile", M1), ("bank", C1), ("mobile", M2), ("bank", C4)], "text", "农机购置补贴发放名单公示"),
    Snippet("PDF处罚决定（长行）", "当事人：郑某，公民身份号码：" + ID3 + "，经营地址：红海湾经济开发区遮浪街道，"
            "经查，当事人于2026年5月12日在未取得许可的情况下从事经营活动，违反了相关规定。",
            [("id", ID3)], "text", "行政处罚决定书"),
    # ---- true candidates: XLSX attachments --------------------------------------------------------
    Snippet("XLSX低保名单（身份证为文本，手机为数字）",
            xlsx([["2026年低保对象名单"], ["序号", "姓名", "身份证号码", "联系电话"], [1, "陈某", ID1, int(M1)],
                  [2, "林某", ID4, int(M2)]]), [("id", ID1), ("id", ID4), ("mobile", M1), ("mobile", M2)], "xlsx"),
    Snippet("XLSX补贴发放（银行卡号文本）", xlsx([["姓名", "银行卡号", "金额"], ["吴某", C2, 800]], "发放表"),
            [("bank", C2)], "xlsx"),
    # ---- hard cases (the paragraph one is a known miss, reported honestly in recall) ------------------------------------------------
    Snippet("15位旧身份证号（身份证号列）", table(["姓名", "身份证号"], [["老某", "441502630512021"]], "低保名单"),
            [("id", "441502630512021")]),
    Snippet("长段落中的无标签手机号", "<p>" + "经入户核查，该户家庭成员共三人，其中一人患有慢性病，长期服药，家庭收入主要来源于务工，"
            f"月人均收入低于当地低保标准，王某（{M2}）一户经评议符合条件，现予以公示。" + "</p>",
            [("mobile", M2)], title="低保申请入户调查公示"),
    # ---- false candidates: registry and transaction numbers -------------------------------------
    Snippet("统一社会信用代码（字母）", "<p>统一社会信用代码：91441500MA4W1B2C3X，法定代表人：某某。</p>", []),
    Snippet("统一社会信用代码（全数字，身份证形状）", f"<p>统一社会信用代码：{ID1}</p>", []),
    Snippet("信用代码表格列", table(["企业名称", "统一社会信用代码", "处罚结果"], [["某某公司", ID2, "警告"]],
            "行政处罚信息公示"), []),
    Snippet("订单编号（身份证形状）", f"<p>订单编号：{ID3}，下单时间：2026-11-20 10:21。</p>", []),
    Snippet("20位订单号", "<p>交易订单号：20261127153012345678</p>", []),
    Snippet("交易流水号（Luhn有效）", f"<p>交易流水号：{C1}，缴费成功。</p>", []),
    Snippet("快递单号", f"<p>EMS快递单号：{C4}，请注意查收。</p>", []),
    Snippet("发票代码与号码", "<p>发票代码：144031900111，发票号码：12345678，金额：300.00元。</p>", []),
    Snippet("不动产单元号", "<p>不动产单元号：441502001001GB00001F00010001</p>", []),
    Snippet("项目代码", "<p>项目代码：2026-441502-48-01-012345</p>", []),
    Snippet("编号列（手机号形状）", table(["编号", "设备名称", "数量"], [[M1, "监控摄像头", "12"]], "设备采购清单"), []),
    Snippet("产品序列号", f"<p>序列号：{M3}01，保修期三年。</p>", []),
    # ---- false candidates: dates, 文号, statistics, money ----------------------------------------
    Snippet("日期与文号", "<p>红财〔2026〕12号 2026年11月27日 发布时间：2026-11-27 09:30:15</p>", []),
    Snippet("紧凑日期", "<p>20261127 20251231 19491001</p>", []),
    Snippet("统计数字", "<p>全区年末户籍人口 123456 人，地区生产总值 98765432101 元。</p>", []),
    Snippet("金额", "<p>预算总额：12345678901.23元</p>", []),
    # ---- false candidates: invalid or foreign shapes --------------------------------------------
    Snippet("校验位错误的身份证号形状", table(["姓名", "身份证号"], [["某某", bad_check(ID1)]], "低保名单"), []),
    Snippet("出生日期不合法", table(["姓名", "身份证号"], [["某某", gen_id("441502", "19851340", "123")]], "名单"), []),
    Snippet("未来出生日期", table(["姓名", "身份证号"], [["某某", gen_id("441502", "20301212", "123")]], "名单"), []),
    Snippet("省级代码不存在", table(["姓名", "身份证号"], [["某某", gen_id("991502", "19851203", "123")]], "名单"), []),
    Snippet("15位数字（无身份证标签）", "<p>项目批准号：441502630512021；合同金额见附件。</p>", []),
    Snippet("15位数字在非身份证列", table(["姓名", "账户编号"], [["某某", "441502630512021"]], "低保名单"), []),
    Snippet("嵌在更长编码中", f"<p>附件编码：ABC{ID2}</p>", []),
    Snippet("嵌在更长数字中", f"<p>0086{M1}9</p>", []),
    Snippet("已脱敏号码", "<p>身份证号：4415**********021X，手机：139****1845，卡号：6217********1234</p>", []),
    # ---- false candidates: the office's own contact details --------------------------------------
    Snippet("通知中的联系人电话", f"<p>联系人：李四，联系电话：{M1}，电子邮箱：lisi@hhw.gov.cn。</p>", []),
    Snippet("监督电话", f"<p>公示期间如有异议，请向区民政局反映。监督电话：{M2}。</p>", []),
    Snippet("咨询电话（座机）", "<p>咨询电话：0660-3388210，传真：0660-3388211。</p>", []),
    Snippet("报名热线", f"<p>报名热线：{M3}（工作日9:00-17:30）</p>", []),
    Snippet("工作人员通讯录表格", table(["科室", "联系人", "职务", "电话"], [["办公室", "陈某", "主任", M4]],
            "区民政局通讯录"), []),
    Snippet("单位收款账户", f"<p>户名：红海湾经济开发区财政局，开户行：中国农业银行汕尾分行，账号：{C1}</p>", []),
    Snippet("无上下文的Luhn数字", f"<p>本次共审核材料{LUHN_ORDER}页。</p>", []),
    Snippet("XLSX统计表（无个人信息）", xlsx([["指标", "数值"], ["户籍人口", 123456], ["财政收入（元）", 12345678901]]),
            [], "xlsx"),
    Snippet("XLSX企业名录（信用代码）", xlsx([["企业名称", "统一社会信用代码"], ["某某公司", ID3]]), [], "xlsx"),
    Snippet("普通通知正文", "<p>为做好2026年城乡居民医疗保险参保缴费工作，现将有关事项通知如下：缴费标准每人每年380元。</p>",
            []),
    Snippet("PDF通讯录（扁平行）", f"联系人：王某 电话：{M2}\n联系人：赵某 电话：{M3}", [], "text", "区民政局工作通知"),
]


def _lines(s: Snippet) -> list[Line]:
    if s.kind == "text":
        return text_lines(str(s.body), "第1页")
    if s.kind == "xlsx":
        assert isinstance(s.body, bytes)
        return read_document(s.body, "x.xlsx").lines
    return html_lines(str(s.body))


def _run(s: Snippet) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    got = Counter((h.kind, h.masked) for h in detect(_lines(s), title=s.title, today=TODAY))
    want = Counter((k, mask_number(n)) for k, n in s.expect)
    return got, want


def test_labelled_set_is_big_and_mixed() -> None:
    assert len(SNIPPETS) >= 50
    assert sum(1 for s in SNIPPETS if s.expect) >= 15 and sum(1 for s in SNIPPETS if not s.expect) >= 20
    assert {"html", "text", "xlsx"} <= {s.kind for s in SNIPPETS}


def test_precision_and_recall_per_detector(capsys: pytest.CaptureFixture[str]) -> None:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    wrong: list[str] = []
    for s in SNIPPETS:
        got, want = _run(s)
        for key in got | want:
            t = min(got[key], want[key])
            tp[key[0]] += t
            fp[key[0]] += got[key] - t
            fn[key[0]] += want[key] - t
            if got[key] != want[key]:
                wrong.append(f"{s.name}: {key[0]} {key[1]} got {got[key]} want {want[key]}")
    lines = ["detector  TP  FP  FN  precision  recall"]
    figures = {}
    for k in ("id", "mobile", "bank"):
        p = tp[k] / (tp[k] + fp[k]) if tp[k] + fp[k] else 1.0
        r = tp[k] / (tp[k] + fn[k]) if tp[k] + fn[k] else 1.0
        figures[k] = (p, r)
        lines.append(f"{k:<8} {tp[k]:>3} {fp[k]:>3} {fn[k]:>3}  {p:9.3f}  {r:6.3f}")
    with capsys.disabled():
        print("\n" + "\n".join(lines) + "\n  differences: " + ("; ".join(wrong) or "none"))
    for k, (p, r) in figures.items():
        assert p >= 0.95, f"{k} precision {p:.3f}: {wrong}"
        assert r >= 0.85, f"{k} recall {r:.3f}: {wrong}"
    # the known misses are the ones documented as such, nothing else
    assert sorted(w.split(":")[0] for w in wrong) == ["长段落中的无标签手机号"], wrong


def test_hits_carry_position_and_masked_excerpt_only() -> None:
    s = SNIPPETS[1]
    hits = detect(_lines(s), title=s.title, today=TODAY)
    assert hits and all(h.locator.startswith("表格1第") for h in hits)
    for h in hits:
        for full in (ID3, ID4, M1, M2):
            assert full not in h.excerpt and full not in h.masked
    assert any(mask_number(ID3) in h.excerpt for h in hits)


def test_mask_text_hides_every_long_run() -> None:
    text = f"A{ID1}B {M1} 卡号 {' '.join(C3[i:i + 4] for i in range(0, 19, 4))} 电话0660-3388210"
    masked = mask_text(text)
    assert ID1 not in masked and M1 not in masked and C3[4:15] not in masked.replace(" ", "")
    assert mask_number(ID1) in masked and "138****1234" in masked and "0660-3388210" in masked


# -- leader names and titles ------------------------------------------------------------------------

LEX = Lexicon(leaders=[Leader("陈志远", ("区党工委书记",)), Leader("林海涛", ("区党工委副书记", "管委会主任")),
                       Leader("郑文华", ("管委会副主任",), ("郑文化",))])
LEADER_CASES: list[tuple[str, list[str]]] = [
    ("区党工委书记陈志远主持召开会议", []),
    ("红海湾经济开发区党工委书记陈志远强调", []),
    ("管委会副主任陈志远出席", ["leader_title"]),
    ("市委书记陈志远到我区调研", ["leader_title"]),
    ("陈志远主任指出", ["leader_title"]),
    ("陈志远书记指出", []),
    ("区党工委副书记、管委会主任林海涛讲话", []),
    ("会议由主任林海涛主持", []),
    ("管委会副主任林海涛", ["leader_title"]),
    ("管委会主任林海滔出席会议", ["leader_name"]),
    ("管委会副主任郑文华带队检查", []),
    ("郑文化副主任带队检查", ["leader_name"]),
    ("管委会主任郑文华", ["leader_title"]),
    ("陈志远同志当选", []),
    ("参加会议的有陈志远、林海涛、郑文华", []),
]


def test_leader_lexicon_precision_recall(capsys: pytest.CaptureFixture[str]) -> None:
    tp = fp = fn = 0
    for text, want in LEADER_CASES:
        got = sorted(m.kind for m in match_text(text, LEX))
        w = sorted(want)
        common = sum((Counter(got) & Counter(w)).values())
        tp, fp, fn = tp + common, fp + len(got) - common, fn + len(w) - common
        assert got == w, (text, got, w)
    with capsys.disabled():
        print(f"\nleader lexicon: TP {tp} FP {fp} FN {fn} precision {tp / (tp + fp):.3f} recall {tp / (tp + fn):.3f}")


def test_excerpt_never_cuts_a_number_into_an_unmasked_piece() -> None:
    """An excerpt's window may start or end inside another number (a spaced card, a phone number):
    the piece left would be masked from a different digit on, or fall under 11 digits and show in clear."""
    from checks.wording import _context
    from core.lexicon import Match
    from core.parsing.privacy import masked_window

    spaced = " ".join(C3[i:i + 4] for i in range(0, 19, 4))
    text = f"银行卡 {spaced} 姓名张三 身份证{ID1}"
    hits = detect([Line(text, "正文第1行")], title="低保名单", today=TODAY)
    id_hit = next(h for h in hits if h.kind == "id")
    assert mask_text(spaced) in id_hit.excerpt        # the whole card, masked as a whole
    # a title or context window that ends or starts inside a number
    assert ID1[4:8] not in masked_window(f"公示{ID1}尾", 0, 10)
    assert M1[3:7] not in masked_window(f"请联系 {M1} 办理", 0, 12)
    line = M1 + "某" * 11 + "错别字"
    m = Match(kind="typo", term="错别字", suggestion="", offset=line.index("错别字"))
    assert M1[3:7] not in _context(line, m, 20)
