"""privacy-leaks and wording-lexicon on a stored run, the review queue, and scoring of decisions.

A real store file, the real runner, results model and report writers: candidates reach the queue with
masked evidence; no output format (JSON, CSV, xlsx, HTML, the queue's exports) ever holds a full
number; 确认 makes the veto count at the next scoring, 排除 suppresses the item in later runs, and a
run judged before a decision keeps its old verdict.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from testkit.snapshots import Page, make_snapshot, site_config

from checks import privacy, wording
from core.lexicon import LexiconError, parse_lexicon
from core.model import Outcome
from core.parsing.doctext import Unreadable, xls_lines, xlsx_lines
from core.store import LinkRow, Store
from reports import write_reports
from zwgk import reviewqueue as rq
from zwgk.cli import main
from zwgk.config import ConfigError, parse_sites
from zwgk.results import build_results
from zwgk.rules import load_rules
from zwgk.runner import judge_run

BASE = "http://www.hhw.gov.cn/"


def gen_id(area: str, born: str, seq: str) -> str:
    """A fictional 身份证号 with a valid GB 11643 check character (weights 2^(17-i) mod 11)."""
    body = area + born + seq
    return body + "10X98765432"[sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(body)) % 11]


ID1, ID2 = gen_id("441502", "19630512", "021"), gen_id("441581", "19780930", "114")
M1 = "13826601234"
C2 = "6222021234567890128"    # Luhn-valid, fictional
ID3 = gen_id("441523", "19880808", "551")
LEXICON = """
[[typo]]
wrong = "布署"
right = "部署"
[[leader]]
name = "陈志远"
titles = ["区党工委书记"]
"""
FULL = [ID1, ID2, ID3, M1, C2]


def _xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "低保名单"
    for row in (["序号", "姓名", "身份证号码", "联系电话", "银行卡号"], [1, "陈某", ID2, int(M1), C2], [2, "林某", ID3, "", ""]):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


PAGES = {
    BASE: Page("<html><head><title>红海湾经济开发区</title></head><body><a href='/gsgg/1.html'>公示</a>"
               "<a href='/xw/2.html'>要闻</a></body></html>", title="红海湾经济开发区"),
    BASE + "gsgg/1.html": Page(
        "<html><body><h1>2026年10月低保对象公示</h1><table><tr><th>姓名</th><th>身份证号码</th></tr>"
        f"<tr><td>陈某某</td><td>{ID1}</td></tr></table>"
        "<p><a href='/gsgg/mingdan.xlsx'>低保名单.xlsx</a></p></body></html>", title="2026年10月低保对象公示",
        depth=1),
    BASE + "gsgg/mingdan.xlsx": Page(_xlsx(), purpose="attachment", parent_url=BASE + "gsgg/1.html",
                                     content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    BASE + "xw/2.html": Page("<html><body><h1>全区经济工作会议召开</h1><p>管委会副主任陈志远出席会议并讲话，"
                             "会议对明年工作作出布署。</p></body></html>", title="全区经济工作会议召开", depth=1),
}
LINKS = [LinkRow(BASE + "gsgg/1.html", BASE + "gsgg/mingdan.xlsx", "低保名单.xlsx", "body", "a")]


@pytest.fixture()
def db(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "zwgk.sqlite"
    lex = tmp_path / "lexicon.toml"
    lex.write_text(LEXICON, "utf-8")
    store = Store(path)
    snap = make_snapshot(PAGES, site=site_config("portal", BASE), links=LINKS, store=store,
                         as_of="2026-11-27T09:00:00+08:00")
    run_id = snap.run.run_id
    store.db.execute("UPDATE runs SET status='complete', sites_toml=?, sites_path=? WHERE id=?",
                     ('[audit]\nname = "测试区"\nlexicon = "lexicon.toml"\n', str(tmp_path / "sites.toml"), run_id))
    judge_run(store, run_id, load_rules(), checks=(*privacy.CHECKS, *wording.CHECKS))
    store.close()
    return path, run_id


def _new_run(path: Path, tmp: Path) -> int:
    """The same site judged again in a later run (the next night's audit)."""
    store = Store(path)
    snap = make_snapshot(PAGES, site=site_config("portal", BASE), links=LINKS, store=store,
                         as_of="2026-11-28T09:00:00+08:00")
    run_id = snap.run.run_id
    store.db.execute("UPDATE runs SET status='complete', sites_toml=?, sites_path=? WHERE id=?",
                     ('[audit]\nname = "测试区"\nlexicon = "lexicon.toml"\n', str(tmp / "sites.toml"), run_id))
    judge_run(store, run_id, load_rules(), checks=(*privacy.CHECKS, *wording.CHECKS))
    store.close()
    return run_id


def _all_text(out: Path) -> str:
    parts = []
    for f in sorted(out.rglob("*")):
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")]
        elif f.is_file():
            parts.append(f.read_text("utf-8", errors="replace"))
    return "\n".join(parts)


def _assert_masked(text: str) -> None:
    for full in FULL:
        assert full not in text, f"full number {full[:4]}… leaked"


def test_candidates_reach_the_queue_with_masked_evidence(db: tuple[Path, int]) -> None:
    path, run_id = db
    store = Store(path)
    rules = load_rules()
    items = rq.queue_items(store, run_id, rules)
    by_msg = {i["message_id"]: i for i in items}
    assert set(by_msg) >= {"privacy-leaks.id", "privacy-leaks.mobile", "privacy-leaks.bank",
                           "wording-lexicon.leader_title", "wording-lexicon.typo"}
    ids = [i for i in items if i["message_id"] == "privacy-leaks.id"]
    assert {i["url"] for i in ids} == {BASE + "gsgg/1.html", BASE + "gsgg/mingdan.xlsx"}
    att = next(i for i in ids if i["url"].endswith(".xlsx"))
    assert att["source_url"] == BASE + "gsgg/1.html" and "低保名单.xlsx" in att["text"]
    assert "2 个完整的居民身份证号" in att["text"] and att["positions"] == ["工作表“低保名单”第2行", "工作表“低保名单”第3行"]
    assert "4415**********" in att["text"] and att["on_confirm"] == "单项否决"
    leader = by_msg["wording-lexicon.leader_title"]
    assert "管委会副主任陈志远" in leader["text"] and "区党工委书记" in leader["text"]
    for fmt in ("json", "csv", "text"):
        _assert_masked(rq.write_export(items, run_id, fmt, None))
    # the check's stored result: manual, never failing or vetoing on its own
    res = {r["check_id"]: r for r in store.results(run_id)}
    assert res["privacy-leaks"]["outcome"] == "manual" and not res["privacy-leaks"]["veto"]
    data = json.loads(res["privacy-leaks"]["data"])
    assert {"url": BASE + "gsgg/mingdan.xlsx", "id_number": 2, "mobile": 1, "bank_card": 1} in \
        data["metrics"]["counts_per_page"]
    _assert_masked(res["privacy-leaks"]["data"])
    store.close()


def test_every_report_format_is_masked_and_confirmation_vetoes(db: tuple[Path, int], tmp_path: Path) -> None:
    path, run_id = db
    rules = load_rules()
    store = Store(path)
    before = build_results(store, run_id, rules)
    assert not before["sites"][0]["score"]["vetoed"]
    write_reports(before, tmp_path / "before", ("json", "csv", "xlsx", "html"))
    text = _all_text(tmp_path / "before")
    _assert_masked(text)
    assert "4415**********" in text

    items = {i["message_id"] + "|" + (i["url"] or ""): i for i in rq.queue_items(store, run_id, rules)}
    leak = items["privacy-leaks.id|" + BASE + "gsgg/mingdan.xlsx"]
    title = items["wording-lexicon.leader_title|" + BASE + "xw/2.html"]
    typo = items["wording-lexicon.typo|" + BASE + "xw/2.html"]
    rq.decide(store, leak["fingerprint"][:8], rq.CONFIRM, reason="附件公开完整身份证号", by="张三", run_id=run_id)
    rq.decide(store, title["fingerprint"], rq.CONFIRM, reason="陈志远为区党工委书记", by="张三", run_id=run_id)
    rq.decide(store, typo["fingerprint"], rq.EXCLUDE, reason="引用原文", by="李四", run_id=run_id)

    after = build_results(store, run_id, rules)
    site = after["sites"][0]
    assert site["score"]["vetoed"] and set(site["score"]["vetoes"]) == {"privacy-leaks", "wording-lexicon"}
    checks = {c["check_id"]: c for c in site["checks"]}
    assert checks["privacy-leaks"]["outcome"] == "fail"
    failing = [f for f in checks["privacy-leaks"]["findings"] if f["severity"] == "fail"]
    assert [f["fingerprint"] for f in failing] == [leak["fingerprint"]]
    assert failing[0]["params"]["review"]["by"] == "张三"
    assert typo["fingerprint"] not in {f["fingerprint"] for f in checks["wording-lexicon"]["findings"]}
    write_reports(after, tmp_path / "after", ("json", "csv", "xlsx", "html"))
    _assert_masked(_all_text(tmp_path / "after"))
    # decided items leave the default queue and show with --all
    pending = {i["fingerprint"] for i in rq.queue_items(store, run_id, rules)}
    assert not {leak["fingerprint"], title["fingerprint"], typo["fingerprint"]} & pending
    decided = {i["fingerprint"]: i["status"] for i in rq.queue_items(store, run_id, rules, include_decided=True)}
    assert decided[typo["fingerprint"]] == "exclude" and decided[leak["fingerprint"]] == "confirm"
    store.close()


def test_decisions_apply_to_later_runs_not_earlier_ones(db: tuple[Path, int], tmp_path: Path) -> None:
    path, first = db
    second = _new_run(path, tmp_path)
    rules = load_rules()
    store = Store(path)
    typo = next(i for i in rq.queue_items(store, second, rules) if i["message_id"] == "wording-lexicon.typo")
    leak = next(i for i in rq.queue_items(store, second, rules) if i["message_id"] == "privacy-leaks.id")
    rq.decide(store, typo["fingerprint"], rq.EXCLUDE, reason="引用原文", by="李四", run_id=second)
    rq.decide(store, leak["fingerprint"], rq.CONFIRM, reason="泄露", by="李四", run_id=second)
    store.close()
    third = _new_run(path, tmp_path)
    store = Store(path)
    later = {i["fingerprint"] for i in rq.queue_items(store, third, rules)}
    assert typo["fingerprint"] not in later and leak["fingerprint"] not in later
    assert build_results(store, third, rules)["sites"][0]["score"]["vetoed"]
    assert not build_results(store, first, rules)["sites"][0]["score"]["vetoed"]   # history unchanged
    assert typo["fingerprint"] in {i["fingerprint"] for i in rq.queue_items(store, first, rules)}
    assert [h["decision"] for h in rq.history(store)] == ["exclude", "confirm"]
    store.close()


def test_cli_lists_confirms_and_refuses_bad_decisions(db: tuple[Path, int], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path, run_id = db
    assert main(["review-queue", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "需人工核查" in out and "个人信息泄露" in out
    _assert_masked(out)
    fp = next(line.split()[1] for line in out.splitlines() if line.startswith("[待核查]") and "个人信息" in line)
    assert main(["review-queue", "confirm", fp, "--db", str(path), "--by", "张三"]) == 2      # no reason
    assert main(["review-queue", "confirm", "ffffffffff", "--db", str(path), "--reason", "x", "--by", "y"]) == 2
    assert main(["review-queue", "confirm", fp, "--db", str(path), "--reason", "泄露", "--by", "张三"]) == 0
    csv_out = tmp_path / "q.csv"
    assert main(["review-queue", "--all", "--format", "csv", "--out", str(csv_out), "--db", str(path)]) == 0
    text = csv_out.read_text("utf-8-sig")
    assert "已确认" in text and "张三" in text
    _assert_masked(text)
    assert main(["review-queue", "--db", str(tmp_path / "missing.sqlite")]) == 4


def test_lexicon_errors_name_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match=r"lex.toml:3: \[\[leader\]\] #1: 未知的键 'title'"):
        parse_lexicon('[[leader]]\nname = "陈志远"\ntitle = "书记"\n', "lex.toml")
    (tmp_path / "bad.toml").write_text('[[typo]]\nwrong = ""\nright = "x"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"sites.toml:3: \[audit\] lexicon: .*bad.toml:2"):
        parse_sites('[audit]\nname = "区"\nlexicon = "bad.toml"\n[[site]]\nid = "a"\nname = "A"\n'
                    'url = "http://a.gov.cn/"\nunit = "U"\nkind = "portal"\n', tmp_path / "sites.toml")


def test_wording_check_without_readable_lexicon_could_not_verify(tmp_path: Path) -> None:
    snap = make_snapshot({BASE: "<html><body><p>布署</p></body></html>"}, site=site_config("portal", BASE),
                         district={"name": "区", "timezone": "Asia/Shanghai", "lexicon": str(tmp_path / "none.toml")})
    res = wording.judge(snap, wording.DEFAULTS)
    assert res.outcome == Outcome.ERROR and "none.toml" in res.params["reason"]


def test_hostile_spreadsheets_are_unreadable_not_crashes() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Types/>')
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(Unreadable, match="DTD"):
        xlsx_lines(buf.getvalue())
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * 40_000_000 + b"/>")
    with pytest.raises(Unreadable, match="压缩炸弹"):
        xlsx_lines(bomb.getvalue())
    with pytest.raises(Unreadable):
        xlsx_lines(b"PK\x03\x04 not really a zip")
    snap = make_snapshot({BASE: "<html><body>首页</body></html>",
                          BASE + "a.xlsx": Page(bomb.getvalue(), purpose="attachment")},
                         site=site_config("portal", BASE))
    res = privacy.judge(snap, privacy.DEFAULTS)
    # an unread attachment may hold the numbers: could not verify, never "none found"
    assert res.outcome == Outcome.ERROR and "1 个页面或附件无法读取" in res.params["unread"]


def test_binary_xls_attachment_is_read() -> None:
    """A real BIFF8 .xls 公示 (tests/fixtures/privacy/dibao.xls, made by make_xls.py) is read with xlrd."""
    data = (Path(__file__).parent / "fixtures" / "privacy" / "dibao.xls").read_bytes()
    snap = make_snapshot({BASE: "<html><body>首页</body></html>",
                          BASE + "gs/dibao.xls": Page(data, purpose="attachment", content_type="application/vnd.ms-excel")},
                         site=site_config("portal", BASE), as_of="2026-11-27T09:00:00+08:00")
    res = privacy.judge(snap, privacy.DEFAULTS)
    assert res.outcome == Outcome.MANUAL
    assert res.metrics["counts_per_page"] == [{"url": BASE + "gs/dibao.xls", "id_number": 3, "mobile": 3}]
    f = next(f for f in res.findings if f.message_id == "privacy-leaks.id")
    assert f.params["positions"] == ["工作表“低保对象”第3行", "工作表“低保对象”第4行", "工作表“低保对象”第5行"]
    text = json.dumps([x.to_dict() for x in res.findings], ensure_ascii=False)
    for full in ("441502195104020133", "441502198309172468", "441581196206300785", "13826605678"):
        assert full not in text
    for cut in (600, 3000, len(data) - 100):     # truncated files: unreadable, never a crash
        try:
            xls_lines(data[:cut])
        except Unreadable:
            pass
    # an OLE file that is not a workbook (a .doc) is unreadable, not clean
    doc = make_snapshot({BASE: "<html><body>首页</body></html>",
                         BASE + "a.doc": Page(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, purpose="attachment")},
                        site=site_config("portal", BASE))
    assert privacy.judge(doc, privacy.DEFAULTS).metrics["unreadable"] == 1


def test_a_template_typo_is_one_finding_not_one_per_page() -> None:
    footer = "<div class='footer'>主办单位：红海湾经济开发区 网站布署单位：信息中心</div>"
    pages = {BASE: f"<html><body><p>首页</p>{footer}</body></html>"}
    pages.update({f"{BASE}p/{i}.html": Page(f"<html><body><p>正文{i}</p>{footer}</body></html>", depth=1)
                  for i in range(30)})
    pages[BASE + "p/x.html"] = Page("<html><body><p>对工作作出布署。</p></body></html>", depth=1)
    res = wording.judge(make_snapshot(pages, site=site_config("portal", BASE)), wording.DEFAULTS)
    typos = [f for f in res.findings if f.message_id == "wording-lexicon.typo"]
    assert len(typos) == 2
    template = next(f for f in typos if f.params["other_pages"])
    assert template.params["other_pages"] == 30 and "疑为网站模板" in template.params["also"]


def test_page_cap_never_crowds_out_attachments_and_is_reported() -> None:
    pages: dict[str, Page | str] = {BASE: "<html><body>首页</body></html>"}
    pages.update({f"{BASE}p/{i}.html": Page("<html><body><p>正文</p></body></html>", depth=1) for i in range(5)})
    pages[BASE + "z.xlsx"] = Page(_xlsx(), purpose="attachment", parent_url=BASE)
    snap = make_snapshot(pages, site=site_config("portal", BASE), as_of="2026-11-27T09:00:00+08:00")
    res = privacy.judge(snap, {**privacy.DEFAULTS, "max_pages": 2})
    assert res.outcome == Outcome.MANUAL and res.metrics["attachments_read"] == 1
    assert res.metrics["pages_read"] == 2 and res.metrics["over_cap"] == 4
    clean = make_snapshot({k: v for k, v in pages.items() if not k.endswith(".xlsx")}, site=site_config("portal", BASE))
    res = privacy.judge(clean, {**privacy.DEFAULTS, "max_pages": 2})
    assert res.outcome == Outcome.ERROR and "4 个超出核查上限未读取" in res.params["unread"]


def _docx(rows: list[list[str]]) -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

    def cell(t: str) -> str:
        return f"<w:tc><w:p><w:r><w:t>{t}</w:t></w:r></w:p></w:tc>"
    table = "<w:tbl>" + "".join("<w:tr>" + "".join(cell(c) for c in r) + "</w:tr>" for r in rows) + "</w:tbl>"
    doc = (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
           f"<w:p><w:r><w:t>困难群众慰问金发放名单</w:t></w:r></w:p>{table}</w:body></w:document>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", doc)
    return buf.getvalue()


def test_pdf_and_docx_attachments_are_read_with_positions() -> None:
    from zwgk.demo.pdf import make_pdf

    pdf = make_pdf(["2026年10月城乡低保对象名单", f"1 陈某某 {ID1} 3 1260", f"2 林某 {ID2} 1 650"], "低保名单")
    docx = _docx([["姓名", "身份证号", "联系电话"], ["黄某", ID3, M1]])
    snap = make_snapshot({BASE: "<html><body>首页</body></html>",
                          BASE + "a.pdf": Page(pdf, purpose="attachment", content_type="application/pdf"),
                          BASE + "b.docx": Page(docx, purpose="attachment")},
                         site=site_config("portal", BASE), as_of="2026-11-27T09:00:00+08:00")
    res = privacy.judge(snap, privacy.DEFAULTS)
    assert res.metrics["attachments_read"] == 2 and res.metrics["unreadable"] == 0
    got = {(f.url.rsplit("/", 1)[-1], f.message_id): f.params for f in res.findings}
    assert got[("a.pdf", "privacy-leaks.id")]["count"] == 2
    assert got[("a.pdf", "privacy-leaks.id")]["positions"][0].startswith("第1页第")
    assert got[("b.docx", "privacy-leaks.id")]["positions"] == ["表格1第2行"]
    assert got[("b.docx", "privacy-leaks.mobile")]["count"] == 1
    _assert_masked(json.dumps([f.to_dict() for f in res.findings], ensure_ascii=False))


def test_a_confirmed_typo_deducts_but_only_a_severe_kind_vetoes(db: tuple[Path, int]) -> None:
    """严重错误 is wrong leader names/titles and politically wrong wording (docs/DOMAIN.md §2); a confirmed
    错别字 is a content error that deducts. The queue says so before the person confirms."""
    path, run_id = db
    rules = load_rules()
    store = Store(path)
    items = {i["message_id"]: i for i in rq.queue_items(store, run_id, rules)}
    typo, title = items["wording-lexicon.typo"], items["wording-lexicon.leader_title"]
    assert typo["on_confirm"] == "扣分" and title["on_confirm"] == "单项否决"
    rq.decide(store, typo["fingerprint"], rq.CONFIRM, reason="确为错别字", by="张三", run_id=run_id)
    site = build_results(store, run_id, rules)["sites"][0]
    checks = {c["check_id"]: c for c in site["checks"]}
    assert checks["wording-lexicon"]["outcome"] == "fail"
    assert "wording-lexicon" not in site["score"]["vetoes"]
    assert {"check_id": "wording-lexicon", "points": 0.5} in site["score"]["deductions"]
    rq.decide(store, title["fingerprint"], rq.CONFIRM, reason="陈志远为区党工委书记", by="张三", run_id=run_id)
    assert "wording-lexicon" in build_results(store, run_id, rules)["sites"][0]["score"]["vetoes"]
    store.close()


def test_an_attachment_named_after_a_person_is_masked_in_the_finding_urls() -> None:
    """Review finding: a 名单 named after a 身份证号 put the full number into every report through the
    finding's URL and title; the privacy check masks them as it masks excerpts."""
    named = BASE + f"gsgg/{ID1}.xlsx"
    pages = {BASE: Page(f"<html><body><a href='/gsgg/{ID1}.xlsx'>{ID1}的材料.xlsx</a></body></html>", title="首页"),
             named: Page(_xlsx(), purpose="attachment", parent_url=BASE,
                         content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    snap = make_snapshot(pages, site=site_config("portal", BASE),
                         links=[LinkRow(BASE, named, f"{ID1}的材料.xlsx", "body", "a")],
                         as_of="2026-11-27T09:00:00+08:00")
    res = privacy.judge(snap, privacy.DEFAULTS)
    assert res.outcome == Outcome.MANUAL and res.findings
    text = json.dumps(res.to_dict(), ensure_ascii=False)
    _assert_masked(text)
    assert "4415" in text      # the masked form is still there to find the page


def test_an_excluded_list_returns_when_more_numbers_are_posted_on_it(db: tuple[Path, int], tmp_path: Path) -> None:
    """Review finding: 排除 was keyed by page and kind only, so a real leak added later to an
    excluded page stayed hidden. A list that grows is a new candidate."""
    path, run_id = db
    rules = load_rules()
    store = Store(path)
    leak = next(i for i in rq.queue_items(store, run_id, rules)
                if i["message_id"] == "privacy-leaks.id" and i["url"].endswith("gsgg/1.html"))
    rq.decide(store, leak["fingerprint"], rq.EXCLUDE, reason="样例数据", by="李四", run_id=run_id)
    store.close()
    grown = dict(PAGES)
    grown[BASE + "gsgg/1.html"] = Page(
        "<html><body><h1>2026年10月低保对象公示</h1><table><tr><th>姓名</th><th>身份证号码</th></tr>"
        f"<tr><td>陈某某</td><td>{ID1}</td></tr><tr><td>林某某</td><td>{ID3}</td></tr></table>"
        "<p><a href='/gsgg/mingdan.xlsx'>低保名单.xlsx</a></p></body></html>", title="2026年10月低保对象公示",
        depth=1)
    store = Store(path)
    snap = make_snapshot(grown, site=site_config("portal", BASE), links=LINKS, store=store,
                         as_of="2026-11-28T09:00:00+08:00")
    later = snap.run.run_id
    store.db.execute("UPDATE runs SET status='complete', sites_toml=?, sites_path=? WHERE id=?",
                     ('[audit]\nname = "测试区"\nlexicon = "lexicon.toml"\n', str(tmp_path / "sites.toml"), later))
    judge_run(store, later, load_rules(), checks=(*privacy.CHECKS, *wording.CHECKS))
    again = [i for i in rq.queue_items(store, later, rules)
             if i["message_id"] == "privacy-leaks.id" and i["url"].endswith("gsgg/1.html")]
    assert len(again) == 1 and again[0]["fingerprint"] != leak["fingerprint"]
    store.close()
