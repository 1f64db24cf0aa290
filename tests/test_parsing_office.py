"""DOCX and OFD reading (core.parsing.office) and the annual-report check on such attachments.

The files are built here with zipfile — minimal but valid packages: a DOCX whose tables are the
official report tables converted cell by cell (rowspan → w:vMerge restart/continue, colspan →
w:gridSpan), and an OFD whose page objects are shuffled and whose numbers are split into one
TextCode per digit, so reading order and joining are really exercised.
"""
from __future__ import annotations

import io
import random
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import lxml.html
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "disclosure"))
import reportgen as rg
from testkit.snapshots import Page, make_snapshot, site_config

from checks import annual_report as A
from checks.base import params_for
from core.model import Outcome, Severity
from core.parsing import annual_report as ar
from core.parsing import office
from core.parsing.tables import grid, tables_from_html, text_grid
from core.store import LinkRow

UNIT = "区发展和财政局"
BASE = "http://fgj.example.gov.cn/"
TITLE = f"{UNIT}2025年政府信息公开工作年度报告"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
OFD_NS = "http://www.ofdspec.org/2016"


# -- builders ----------------------------------------------------------------------------------
def _zip(files: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


def _w_p(text: str) -> str:
    # two runs per paragraph: text split across w:r elements must join
    half = len(text) // 2
    runs = "".join(f'<w:r><w:t xml:space="preserve">{escape(t)}</w:t></w:r>' for t in (text[:half], text[half:]) if t)
    return f"<w:p><w:pPr/>{runs}</w:p>"


def _w_tbl(table) -> str:
    g = grid(table)
    rows = []
    for r, row in enumerate(g):
        tcs = []
        c = 0
        while c < len(row):
            cell = row[c]
            if cell is None:
                tcs.append("<w:tc><w:p/></w:tc>")
                c += 1
                continue
            span = f'<w:gridSpan w:val="{cell.colspan}"/>' if cell.colspan > 1 else ""
            if cell.is_origin(r, c):
                merge = '<w:vMerge w:val="restart"/>' if cell.rowspan > 1 else ""
                tcs.append(f"<w:tc><w:tcPr>{span}{merge}</w:tcPr>{_w_p(cell.text)}</w:tc>")
            else:       # covered by a rowspan from above: a continuation cell
                tcs.append(f"<w:tc><w:tcPr>{span}<w:vMerge/></w:tcPr><w:p/></w:tc>")
            c += cell.colspan
        rows.append("<w:tr>" + "".join(tcs) + "</w:tr>")
    return "<w:tbl><w:tblPr/>" + "".join(rows) + "</w:tbl>"


def docx_xml(body_html: str) -> str:
    """The report body (reportgen HTML) as a w:document."""
    root = lxml.html.fragment_fromstring(body_html, create_parent="div")
    parts = []
    for el in root:
        if el.tag == "table":
            parts.append(_w_tbl(el))
        else:
            parts.append(_w_p(el.text_content()))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W}"><w:body>'
            + "".join(parts) + "<w:sectPr/></w:body></w:document>")


def docx_bytes(document: str | bytes) -> bytes:
    return _zip({
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                               'package/2006/content-types"><Override PartName="/word/document.xml" ContentType='
                               '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                               "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                       'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                       'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/document.xml": document,
    })


def report_docx(numbers: dict[str, list[int]] | None = None) -> bytes:
    return docx_bytes(docx_xml(rg.report_body(2025, UNIT, numbers=numbers)))


def _text_object(i: int, x: float, y: float, token: str) -> str:
    size = 3.5
    if token.isdigit() and len(token) > 1:      # one TextCode per digit, as many writers do
        codes = "".join(f'<ofd:TextCode X="{k * size * 0.5:.2f}" Y="3">{d}</ofd:TextCode>' for k, d in enumerate(token))
    else:
        codes = f'<ofd:TextCode X="0" Y="3">{escape(token)}</ofd:TextCode>'
    return (f'<ofd:TextObject ID="{i}" Boundary="{x:.2f} {y:.2f} 120 5" Font="2" Size="{size}">'
            f"{codes}</ofd:TextObject>")


def _width(token: str) -> float:
    return sum(3.5 if ord(ch) >= 0x2E80 else 1.75 for ch in token)


def ofd_content(lines: list[str], seed: int, page_no: int) -> str:
    objs = []
    for li, line in enumerate(lines):
        x = 20.0
        for tok in line.split(" "):
            objs.append((x, 20.0 + li * 6.0, tok))
            x += _width(tok) + 4.0
    objs.append((100.0, 285.0, f"- {page_no} -"))
    random.Random(seed).shuffle(objs)        # file order is not reading order
    body = "".join(_text_object(i, x, y, t) for i, (x, y, t) in enumerate(objs, 10))
    half = len(body) // 2
    cut = body.index("<ofd:TextObject", half) if "<ofd:TextObject" in body[half:] else len(body)
    return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content>'
            f'<ofd:Layer ID="3">{body[:cut]}<ofd:PageBlock ID="4">{body[cut:]}</ofd:PageBlock></ofd:Layer>'
            "</ofd:Content></ofd:Page>")


def ofd_bytes(pages: list[str], *, ofd_xml: str | None = None) -> bytes:
    """pages: each page's Content.xml."""
    files: dict[str, str | bytes] = {
        "OFD.xml": ofd_xml or (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0" '
                               'DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID></ofd:DocInfo>'
                               "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"),
        "Doc_0/Document.xml": (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{OFD_NS}">'
                               '<ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>'
                               "</ofd:PageArea><ofd:MaxUnitID>999</ofd:MaxUnitID></ofd:CommonData><ofd:Pages>"
                               + "".join(f'<ofd:Page ID="{i + 1}" BaseLoc="Pages/Page_{i}/Content.xml"/>'
                                         for i in range(len(pages)))
                               + "</ofd:Pages></ofd:Document>"),
    }
    for i, content in enumerate(pages):
        files[f"Doc_0/Pages/Page_{i}/Content.xml"] = content
    return _zip(files)


def report_ofd(numbers: dict[str, list[int]] | None = None, per_page: int = 30) -> bytes:
    lines = rg.report_lines(2025, UNIT, numbers)
    chunks = [lines[i:i + per_page] for i in range(0, len(lines), per_page)]
    return ofd_bytes([ofd_content(c, seed=i, page_no=i + 1) for i, c in enumerate(chunks)])


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10))
                  + f']><w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body>'
                    "</w:document>")


def _off_by_one() -> dict[str, list[int]]:
    return {**rg.default_numbers(), "carry_over": rg.row(2)}


def _codes(rep: ar.AnnualReport) -> set[str]:
    return {i.code for i in ar.arithmetic(rep)}


# -- DOCX --------------------------------------------------------------------------------------
def test_docx_tables_become_the_same_grid_as_the_html_original() -> None:
    html = office.docx_html(report_docx())
    got = [text_grid(t) for t in tables_from_html(html)]
    want = [text_grid(t) for t in tables_from_html(rg.report_body(2025, UNIT))]
    assert got == want and len(got) == 3         # 表二, 表三, 表四, spans and blank cells in place
    assert 'rowspan="22"' in html and 'colspan="7"' in html


def test_docx_2021_report_reads_completely_and_adds_up() -> None:
    rep = ar.parse_docx(report_docx(), TITLE)
    assert rep.source == "docx" and rep.format == "2021" and rep.stat_year == 2025 and rep.missing_headings == []
    assert rep.table3_complete and rep.table3["new"] == [10, 2, 0, 0, 0, 0, 12]
    assert rep.table4 is not None and rep.table4[:5] == [1, 0, 0, 0, 1]
    assert ar.arithmetic(rep) == []


def test_docx_off_by_one_fails_a1_only() -> None:
    assert _codes(ar.parse_docx(report_docx(_off_by_one()), TITLE)) == {"A1"}


def test_docx_text_details() -> None:
    doc = (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}" '
           'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>'
           "<w:sdt><w:sdtContent><w:p><w:r><w:t>一、总体</w:t></w:r><w:r><w:t>情况</w:t></w:r></w:p></w:sdtContent></w:sdt>"
           "<w:p><w:r><w:t>保留</w:t></w:r><w:del><w:r><w:delText>删除</w:delText></w:r></w:del>"
           "<w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:tab/><w:t>&lt;b&gt;</w:t><w:br/><w:t>下行</w:t></w:r>"
           "<w:r><mc:AlternateContent><mc:Choice><w:txbxContent><w:p><w:r><w:t>文本框</w:t></w:r></w:p>"
           "</w:txbxContent></mc:Choice><mc:Fallback><w:t>文本框</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>"
           '<w:tbl><w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr><w:tc><w:p><w:r><w:t>甲</w:t></w:r></w:p></w:tc></w:tr>'
           "</w:tbl></w:body></w:document>")
    html = office.docx_html(docx_bytes(doc))
    assert "<p>一、总体情况</p>" in html
    assert "保留 &lt;b&gt;<br>下行文本框 </p>" in html          # no deleted text, field code or Fallback copy
    assert "<tr><td></td><td><p>甲</p></td></tr>" in html                # gridBefore keeps the column


def test_docx_without_text_is_scanned() -> None:
    rep = ar.parse_docx(docx_bytes(f'<w:document xmlns:w="{W}"><w:body><w:p/></w:body></w:document>'), TITLE)
    assert ar.is_scanned(rep.text)


# -- OFD ---------------------------------------------------------------------------------------
def test_ofd_reading_order_by_y_then_x_and_digit_joining() -> None:
    content = ofd_content(["第一行 左 右", "（七）总计 10 2 0 0 0 0 12"], seed=3, page_no=1)
    assert office.ofd_pages(ofd_bytes([content])) == ["第一行 左 右\n（七）总计 10 2 0 0 0 0 12\n- 1 -"]


def test_ofd_ctm_delta_and_continuation() -> None:
    page = (f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer>'
            '<ofd:TextObject ID="2" Boundary="0 50 100 10" Size="4"><ofd:TextCode X="10" Y="4">下</ofd:TextCode>'
            "</ofd:TextObject>"
            '<ofd:TextObject ID="1" Boundary="0 0 100 10" Size="2" CTM="2 0 0 2 0 0">'
            '<ofd:TextCode X="5" Y="2" DeltaX="g 2 2">上一行</ofd:TextCode><ofd:TextCode>接续</ofd:TextCode>'
            "</ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>")
    assert office.ofd_text(ofd_bytes([page])) == "上一行接续\n下"


def test_ofd_2021_report_reads_completely_and_adds_up() -> None:
    text = ar.ofd_text(report_ofd())
    assert "- 1 -" not in text                            # page numbers dropped
    rep = ar.parse_text(text, TITLE, "ofd")
    assert rep.format == "2021" and rep.missing_headings == [] and rep.table3_complete
    assert rep.table3["new"] == [10, 2, 0, 0, 0, 0, 12] and rep.table4 is not None
    assert ar.arithmetic(rep) == []


def test_ofd_off_by_one_fails_a1_only() -> None:
    assert _codes(ar.parse_text(ar.ofd_text(report_ofd(_off_by_one())), TITLE, "ofd")) == {"A1"}


def test_ofd_page_locations_absolute_and_root_relative() -> None:
    members = _members(ofd_bytes([ofd_content(["正文"], seed=0, page_no=1)]))
    for loc in ("/Doc_0/Pages/Page_0/Content.xml", "Doc_0/Pages/Page_0/Content.xml"):
        doc = members["Doc_0/Document.xml"].replace(b'BaseLoc="Pages/Page_0/Content.xml"', f'BaseLoc="{loc}"'.encode())
        assert office.ofd_text(_zip({**members, "Doc_0/Document.xml": doc})) == "正文\n- 1 -"


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


# -- sniffing ----------------------------------------------------------------------------------
@pytest.mark.parametrize("data, url, expected", [
    pytest.param(b"%PDF-1.7 ...", "a.bin", "pdf", id="pdf-magic"),
    pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 60, "a.wps", "ole", id="wps-binary"),
    pytest.param(None, "a.doc", "docx", id="doc-that-is-docx"),
    pytest.param(ofd_bytes([]), "download.jsp?id=1", "ofd", id="ofd-by-content"),
    pytest.param(b"PK\x03\x04" + b"\0" * 60, "a.docx", "docx", id="corrupt-zip-by-extension"),
    pytest.param(_zip({"a.txt": "x"}), "a.zip", "zip", id="plain-zip"),
    pytest.param(b"<html>", "a.doc", "ole", id="doc-extension"),
    pytest.param(b"<html>", "a.html", "unknown", id="unknown"),
])
def test_kind(data: bytes | None, url: str, expected: str) -> None:
    assert office.kind(data if data is not None else report_docx(), url) == expected


# -- hostile and broken files ------------------------------------------------------------------
def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("word/document.xml", f'<w:document xmlns:w="{W}"><w:body>'.encode() + b" " * 60_000_000
                    + b"</w:body></w:document>")
    return buf.getvalue()


def _lying_bomb() -> bytes:
    """Declared sizes patched to look small (passes the declared-size cap)."""
    data = bytearray(_zip({"[Content_Types].xml": "<Types/>", "word/document.xml": b"<a>" + b" " * 200_000 + b"</a>"}))
    big = (200_007).to_bytes(4, "little")
    small = (7).to_bytes(4, "little")
    return bytes(data.replace(big, small))


@pytest.mark.parametrize("data, why", [
    pytest.param(docx_bytes(BILLION_LAUGHS), "DTD", id="billion-laughs"),
    pytest.param(docx_bytes(f'<!DOCTYPE d SYSTEM "file:///etc/passwd"><w:document xmlns:w="{W}"/>'), "DTD",
                 id="external-dtd"),
    pytest.param(docx_bytes(('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY e "x">]>'
                             f'<w:document xmlns:w="{W}"/>').encode("utf-16")), "DTD", id="utf16-hidden-dtd"),
    pytest.param(_bomb(), "压缩炸弹", id="zip-bomb"),
    pytest.param(_zip({f"m{i}.xml": "" for i in range(office.MAX_MEMBERS + 1)}), "成员过多", id="too-many-members"),
    pytest.param(report_docx()[:300], "ZIP损坏", id="truncated"),
    pytest.param(b"PK\x03\x04" + b"\0" * 60, "ZIP损坏", id="garbage"),
    pytest.param(docx_bytes("<w:document>not xml"), "XML错误", id="bad-xml"),
    pytest.param(_zip({"[Content_Types].xml": "<Types/>"}), "缺少", id="no-document-part"),
    pytest.param(docx_bytes(f'<w:document xmlns:w="{W}"><w:body>' + "<w:sdt>" * 50_000 + "</w:sdt>" * 50_000
                            + "</w:body></w:document>"), "嵌套过深", id="deep-nesting"),
])
def test_hostile_docx_is_refused(data: bytes, why: str) -> None:
    with pytest.raises(office.OfficeUnreadable, match=why):
        office.docx_html(data)


def test_lying_sizes_are_caught_while_inflating(monkeypatch: pytest.MonkeyPatch) -> None:
    # inflation stops at the declared size (CRC then fails); the running budget is a second guard
    monkeypatch.setattr(office, "MAX_TOTAL", 100_000)
    with pytest.raises(office.OfficeUnreadable, match="无法解压|压缩炸弹"):
        office.docx_html(_lying_bomb())


def test_crc_corruption_is_unreadable() -> None:
    data = bytearray(ofd_bytes([ofd_content(["正文"], 0, 1)]))
    i = data.index(b"Doc_0/Pages/Page_0/Content.xml") + len("Doc_0/Pages/Page_0/Content.xml")
    data[i + 10] ^= 0xFF                              # inside the first page's compressed data
    with pytest.raises(office.OfficeUnreadable):
        office.ofd_text(bytes(data))


@pytest.mark.parametrize("ofd_xml", [
    pytest.param(f'<!DOCTYPE x [<!ENTITY a "b">]><ofd:OFD xmlns:ofd="{OFD_NS}"/>', id="dtd"),
    pytest.param(f'<ofd:OFD xmlns:ofd="{OFD_NS}"><ofd:DocBody/></ofd:OFD>', id="no-docroot"),
    pytest.param(f'<ofd:OFD xmlns:ofd="{OFD_NS}"><ofd:DocBody><ofd:DocRoot>Nope/Document.xml</ofd:DocRoot>'
                 "</ofd:DocBody></ofd:OFD>", id="missing-document"),
])
def test_broken_ofd_is_refused(ofd_xml: str) -> None:
    with pytest.raises(office.OfficeUnreadable):
        office.ofd_text(ofd_bytes([], ofd_xml=ofd_xml))


# -- the check ---------------------------------------------------------------------------------
DOCX_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _judge(body: bytes, href: str, content_type: str = "application/octet-stream", *, in_article: bool = False):
    item_url = BASE + ("zwgk/nb/202601/t1.html" if in_article else href)
    pages: dict = {
        BASE: '<html><body><a href="zwgk/nb/">年报</a></body></html>',
        BASE + "zwgk/nb/": f'<html><body><ul class="list"><li><a href="{item_url}">{TITLE}</a>'
                           "<span>2026-01-20</span></li></ul></body></html>",
        BASE + href: Page(body, purpose="attachment", content_type=content_type),
    }
    if in_article:   # an article page without the tables, the report attached
        pages[item_url] = Page(f'<html><body><h1>{TITLE}</h1><p>发布时间：2026-01-20</p>'
                               f'<a href="{BASE}{href}">附件：年度报告</a></body></html>', title=TITLE)
    links = [LinkRow(item_url, BASE + href, "附件：年度报告", "body")] if in_article else None
    snap = make_snapshot(pages, site=site_config("fgj", BASE, kind="department", unit=UNIT, name=f"{UNIT}网站"),
                         links=links)
    return A.CHECKS[0].judge(snap, params_for(A.CHECKS[0], None))


@pytest.mark.parametrize("body, href, source", [
    pytest.param(report_docx(), "zwgk/nb/P020260120.docx", "docx", id="docx"),
    pytest.param(report_ofd(), "zwgk/nb/P020260120.ofd", "ofd", id="ofd"),
    pytest.param(report_docx(), "zwgk/nb/P020260120.doc", "docx", id="docx-named-doc"),
])
def test_check_reads_docx_and_ofd(body: bytes, href: str, source: str) -> None:
    r = _judge(body, href, DOCX_CT if source == "docx" else "application/ofd")
    assert (r.outcome, r.message_id) == (Outcome.PASS, "annual-report.ok"), (r.params, r.findings)
    assert r.metrics["source"] == source and r.metrics["table3_rows"] > 20


def test_check_follows_an_article_to_its_ofd() -> None:
    r = _judge(report_ofd(), "zwgk/nb/P020260120.ofd", in_article=True)
    assert r.outcome == Outcome.PASS and r.metrics["source"] == "ofd"


@pytest.mark.parametrize("body, href", [
    pytest.param(report_docx(_off_by_one()), "zwgk/nb/1.docx", id="docx"),
    pytest.param(report_ofd(_off_by_one()), "zwgk/nb/1.ofd", id="ofd"),
])
def test_check_a1_failure_in_docx_and_ofd(body: bytes, href: str) -> None:
    r = _judge(body, href)
    assert r.outcome == Outcome.FAIL
    assert {f.message_id for f in r.findings if f.severity == Severity.FAIL} == {"annual-report.a1"}
    assert all(f.url == BASE + href for f in r.findings)


@pytest.mark.parametrize("body, href, reason", [
    pytest.param(docx_bytes(BILLION_LAUGHS), "nb/1.docx", "DTD", id="docx-entity-bomb"),
    pytest.param(_bomb(), "nb/1.docx", "压缩炸弹", id="docx-zip-bomb"),
    pytest.param(ofd_bytes([], ofd_xml=f'<!DOCTYPE x [<!ENTITY a "b">]><ofd:OFD xmlns:ofd="{OFD_NS}"/>'),
                 "nb/1.ofd", "DTD", id="ofd-entity"),
    pytest.param(report_ofd()[:500], "nb/1.ofd", "OFD无法读取", id="ofd-corrupt-zip"),
    pytest.param(b"PK\x03\x04" + b"\0" * 60, "nb/1.docx", "DOCX无法读取", id="docx-corrupt-zip"),
    pytest.param(ofd_bytes([f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer><ofd:ImageObject ID="1" '
                            'Boundary="0 0 210 297" ResourceID="9"/></ofd:Layer></ofd:Content></ofd:Page>']),
                 "nb/1.ofd", "扫描件", id="ofd-scan"),
    pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 60, "nb/1.wps", "DOC/WPS", id="wps-binary"),
    pytest.param(_zip({"a.txt": "x"}), "nb/1.zip", "无法读取", id="plain-zip"),
])
def test_check_unreadable_files_are_could_not_verify(body: bytes, href: str, reason: str) -> None:
    r = _judge(body, href)
    assert (r.outcome, r.message_id) == (Outcome.ERROR, "annual-report.unreadable"), r.params
    assert reason in r.params["reason"]
