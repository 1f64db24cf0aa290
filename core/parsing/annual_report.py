"""Read a 政府信息公开工作年度报告 from HTML, PDF, DOCX or OFD (docs/DOMAIN.md §7).

Format: 国办公开办函〔2021〕30号 (reports on 2021 and later) replaced the 2019
trial format (国办公开办函〔2019〕60号). Both share table 三's rows and applicant
columns; they differ in table 二's columns and in 三(六)'s sub-rows.

How tables are read: HTML tables are resolved into real grids
(:mod:`core.parsing.tables`) and linearised row by row — each spanned cell once,
a blank value cell as ``0`` — which makes them look like PDF text. Then one
reader serves both: the official row labels are located in order, and a row's
values are the numbers between its label and the next label. A row whose
number count is not the expected one is *unparsed*, never guessed, so a layout
we do not understand yields "could not verify", not a false arithmetic failure.

DOCX tables are rewritten as HTML tables (rowspan/colspan from w:vMerge/w:gridSpan) and read as
HTML; OFD text is read like PDF text, line by line in reading order (:mod:`core.parsing.office`).
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from typing import Any

from core.parsing import office
from core.parsing.dates import ascii_digits
from core.parsing.html import document
from core.parsing.pdfread import PdfText, quiet, read_pdf
from core.parsing.pdfread import PdfUnreadable as PdfUnreadable  # re-exported: checks catch ar.PdfUnreadable
from core.parsing.tables import grid, number

APPLICANT_COLUMNS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
HEADINGS: dict[str, str] = {   # key phrase of each of the six headings (2021 format)
    "一、总体情况": r"总体情况",
    "二、主动公开政府信息情况": r"主动公开政府信息",
    "三、收到和处理政府信息公开申请情况": r"收到和处理政府信息公开申请",
    "四、政府信息公开行政复议、行政诉讼情况": r"行政复议.{0,4}行政诉讼",
    "五、存在的主要问题及改进情况": r"存在的?主要问题",
    "六、其他需要报告的事项": r"其他需要报告(?:的)?事项",
}
_H = list(HEADINGS)
_NUMBERING = (r"(?:第\s*[一二三四五六七八九十]+\s*部分\s*[、.．:：]?|[一二三四五六七八九十]+\s*[、.．]|"
              r"[（(]\s*[一二三四五六七八九十]+\s*[)）]\s*[、.．]?|\d{1,2}\s*[、.．](?!\d))")
_NUMBERED = re.compile(rf"^\s*{_NUMBERING}\s*")


def heading_lines(text: str, offsets: list[int] | None = None) -> dict[str, int]:
    """The six headings as the report's structure shows them: lines that start with a numbering
    (一、 / （一） / 第一部分 / 1.) followed, within a few characters, by the heading's key phrase — or a short
    line that is the heading alone — found in order. An opening sentence that names all six parts is
    not six headings. Returns heading → offset of its line (in ``text``, or the given line ``offsets``)."""
    out: dict[str, int] = {}
    lines = text.split("\n")
    if offsets is None:
        offsets, pos = [], 0
        for ln in lines:
            offsets.append(pos)
            pos += len(ln) + 1
    i = 0
    for h, phrase in HEADINGS.items():
        rx = re.compile(rf"^.{{0,10}}?(?:{phrase})")
        for j in range(i, len(lines)):
            ln = lines[j].strip()
            m = _NUMBERED.match(ln)
            rest = ln[m.end():] if m else ln
            if (m or len(ln) <= 30) and rx.match(rest):
                out[h] = offsets[j]
                i = j + 1
                break
    return out


_MARKERS_2021 = ("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额",
                 "逾期不补正", "逾期未按收费通知")
_MARKERS_2019 = ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减",
                 "本年增／减")

_N = r"(?:[（(]?\d{1,2}\s*[.．、)）]\s*)?"       # optional sub-row numbering "1." "（1）"
# Table 三 rows in order: (key, regex, kind); kind "row" carries 7 values, "head" none,
# "opt" a row only some layouts have. Keyword regexes tolerate wording drift.
_T3: list[tuple[str, str, str]] = [
    ("new", r"本年新收", "row"),
    ("carried", r"上年结转", "row"),
    ("results", r"本年度办理结果", "head"),
    ("open", _N + r"[（(]?一?[)）]?\s*予以公开", "row"),
    ("partial", r"部分公开(?:\s*[（(][^）)]{0,30}[）)])?", "row"),
    ("deny", r"不予公开", "head"),
    ("deny.1", _N + r"属于国家秘密", "row"),
    ("deny.2", _N + r"其他法律行政法规禁止公开", "row"),
    ("deny.3", _N + r"危及.{0,3}三安全一稳定.?", "row"),
    ("deny.4", _N + r"保护第三方合法权益", "row"),
    ("deny.5", _N + r"属于三类内部事务信息", "row"),
    ("deny.6", _N + r"属于四类过程性信息", "row"),
    ("deny.7", _N + r"属于行政执法案卷", "row"),
    ("deny.8", _N + r"属于行政查询事项", "row"),
    ("none", r"无法提供", "head"),
    ("none.1", _N + r"本机关不掌握相关政府信息", "row"),
    ("none.2", _N + r"没有现成信息需要另行制作", "row"),
    ("none.3", _N + r"补正后申请内容仍不明确", "row"),
    ("reject", r"不予处理", "head"),
    ("reject.1", _N + r"信访举报投诉类申请", "row"),
    ("reject.2", _N + r"重复申请", "row"),
    ("reject.3", _N + r"要求提供公开出版物", "row"),
    ("reject.4", _N + r"无正当理由大量反复申请", "row"),
    ("reject.5", _N + r"要求行政机关确认或重新出具已获取信息", "row"),
    ("other", r"其他处理", "row"),           # 2019: a row; 2021: the head of three sub-rows
    ("other.1", _N + r"申请人无正当理由逾期不补正.{0,30}?不再处理其政府信息公开申请", "opt"),
    ("other.2", _N + r"申请人逾期未按收费通知要求缴纳费用.{0,30}?不再处理其政府信息公开申请", "opt"),
    ("other.3", r"[（(]?3\s*[.．、)）]\s*其他(?!处理|法律)", "opt"),
    ("total", r"[（(]?\s*七\s*[)）、.．]\s*总\s*计", "row"),
    ("carry_over", r"结转下年度继续办理", "row"),
]
_RESULT_PARTS = ("open", "partial", *(f"deny.{i}" for i in range(1, 9)), *(f"none.{i}" for i in range(1, 4)),
                 *(f"reject.{i}" for i in range(1, 6)))
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
# a table-三 value: a number, or a lone dash/slash that PDF tables print for zero ("—", "/")
_VALUE = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])|(?:(?<=\s)|^)(?:—{1,2}|-{1,2}|－|/|／|_)(?=\s|$)")
BLANK = "_"          # a blank cell of a grid (HTML, or a PDF table read with its layout): 0, or an unfilled 总计


def _values(text: str) -> list[float]:
    return [float(x) if x[0].isdigit() else math.nan if x == BLANK else 0.0 for x in _VALUE.findall(text)]
_CJK = r"\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"


@dataclass
class Issue:
    """One arithmetic or consistency problem (A1–A7)."""

    code: str            # A1 … A7
    where: str           # row / column, in Chinese
    observed: str
    expected: str


@dataclass
class AnnualReport:
    title: str
    title_year: int | None
    source: str                                    # html | pdf | docx | ofd
    text: str                                      # normalised full text (tables linearised)
    headings: dict[str, bool] = field(default_factory=dict)
    format: str | None = None                      # 2021 | 2019 | mixed | None
    stat_year: int | None = None                   # 统计期限 stated in the text
    table3: dict[str, list[float]] = field(default_factory=dict)
    table3_unparsed: list[str] = field(default_factory=list)   # row keys found but not readable
    table3_missing: list[str] = field(default_factory=list)    # row keys not found
    table4: list[float] | None = None              # 15 values: 复议, 直接起诉, 复议后起诉 × 5
    text_new_applications: int | None = None       # "收到…申请N件" in the prose
    heading_at: dict[str, int] = field(default_factory=dict)   # heading → offset of its line in ``text``
    table3_blank: list[tuple[str, float]] = field(default_factory=list)  # unfilled 总计 cells (where, sum)
    table4_unread: bool = False                    # section 四 is there but its table could not be read
    truncated: bool = False                        # the file ends early: what is missing may lie after the cut

    @property
    def missing_headings(self) -> list[str]:
        return [h for h, ok in self.headings.items() if not ok]

    @property
    def table3_complete(self) -> bool:
        return not self.table3_unparsed and all(k in self.table3 for k in ("new", "carried", "total",
                                                                          "carry_over", *_RESULT_PARTS))


# -- text extraction ----------------------------------------------------------
def normalise(text: str) -> str:
    """Collapse whitespace and drop the spaces PDF extraction puts between CJK characters."""
    text = text.replace("\xa0", " ").replace("\u3000", " ")
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r"\s*\n\s*", "\n", text)
    # lines are kept: the report's structure (numbered headings at line starts) is read from them
    return re.sub(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])", "", text).strip()


def flatten(text: str) -> tuple[str, list[int]]:
    """The text on one line, as table rows are read (a label wrapped across lines is one label), with the
    offset of each of ``text``'s lines in it."""
    out: list[str] = []
    offsets: list[int] = []
    pos = 0
    cjk = re.compile(rf"[{_CJK}]")
    for ln in text.split("\n"):
        sep = "" if not out or (out[-1] and ln and cjk.match(out[-1][-1]) and cjk.match(ln[0])) else " "
        pos += len(sep)
        offsets.append(pos)
        out.append(sep + ln if sep else ln)
        pos += len(ln)
    return "".join(out), offsets


def _transposed(g: list[list[Any]]) -> bool:
    """Table 三 laid out sideways: 自然人 … below 本年新收 and to its left (officially it is above and right)."""
    new = nat = None
    for r, row in enumerate(g):
        for c, cell in enumerate(row):
            if cell is None or not cell.is_origin(r, c):
                continue
            if new is None and "本年新收" in cell.text:
                new = (r, c)
            if nat is None and cell.text.strip() == "自然人":
                nat = (r, c)
    return new is not None and nat is not None and nat[0] > new[0] and nat[1] < new[1]


def _linearise_table(table: Any) -> str:
    g = grid(table)
    slots = [(r, c) for r in range(len(g)) for c in range(len(g[0]) if g else 0)]
    col_major = _transposed(g)
    if col_major:     # read column by column: each column is then one row of the official layout
        slots.sort(key=lambda rc: (rc[1], rc[0]))
    lines: list[str] = []
    out: list[str] = []
    seen_content = False
    line_key = None
    for r, c in slots:
        key = c if col_major else r
        if key != line_key:
            if line_key is not None:
                lines.append(" ".join(out))
            out, seen_content, line_key = [], False, key
        cell = g[r][c]
        if cell is None or not cell.is_origin(r, c):
            continue
        n = number(cell.text)
        if n is not None:
            out.append(_fmt(n))
        elif cell.blank:
            if seen_content:      # a blank value cell after the row's label: zero, or an unfilled 总计
                out.append(BLANK)
            continue
        else:
            out.append(cell.text)
        seen_content = True
    if line_key is not None:
        lines.append(" ".join(out))
    return "\n".join(lines)


def _fmt(n: float) -> str:
    return str(int(n)) if n == int(n) else str(n)


def html_text(html: str) -> str:
    """Document text in order, data tables (those without nested tables) linearised."""
    doc = document(html)
    if doc is None:
        return ""
    parts: list[str] = []
    block = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section"}

    def walk(el: Any) -> None:
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "noscript", "head"):
            pass
        elif el.tag == "table" and not any(True for _ in el.iterdescendants("table")):
            parts.append("\n" + _linearise_table(el) + "\n")
        else:
            if el.text:
                parts.append(el.text)
            for child in el:
                walk(child)
            if el.tag in block:
                parts.append("\n")
        if el.tail:
            parts.append(el.tail)

    body = doc.find("body")
    walk(body if body is not None else doc)
    return "".join(parts)




_PAGE_NO = re.compile(r"^\s*(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?)\s*$",
                      re.MULTILINE)


def pdf_text(data: bytes) -> str:
    """Text of a PDF via pypdf, page numbers removed. '' for a scanned (image-only) PDF.

    Raises :class:`PdfUnreadable` when pypdf cannot open or decrypt it.
    """
    return _joined(read_pdf(data))


def _joined(pdf: PdfText) -> str:
    return "\n".join(_PAGE_NO.sub("", t) for t in pdf.pages)


def _layout_row(cells: list[str | None]) -> str:
    """A PDF table row as the HTML grid rows are linearised: label, then each value cell, a blank one as
    ``BLANK`` (0, or an unfilled 总计) once the row has content."""
    out: list[str] = []
    seen = False
    for raw in cells:
        t = re.sub(r"\s+", "", raw or "")
        n = number(t) if t else None
        if n is not None:
            out.append(_fmt(n))
        elif not t:
            if seen:
                out.append(BLANK)
            continue
        else:
            out.append(t)
        seen = True
    return " ".join(out)


LAYOUT_TABLE_PAGES = 60     # pages searched for ruled tables (table 三/四 are near the start)


def pdf_layout_text(data: bytes) -> str | None:
    """The PDF's text with its ruled tables read as grids (pdfplumber): blank cells are kept, which plain
    text extraction drops (a row of table 三 printing its zeros as blank cells then has too few numbers).
    Lines and tables in reading order (top to bottom per page). None when pdfplumber is not installed
    or cannot read the file."""
    try:
        import pdfplumber
    except ImportError:          # optional: plain text extraction still works
        return None
    try:
        with quiet():
            with pdfplumber.open(io.BytesIO(data)) as pdf:
                pages = []
                for i, page in enumerate(pdf.pages):
                    # table finding is superlinear in ruling lines: a page drawn with thousands of them
                    # (hostile or a vector map) is read as text lines only; so are the pages after the
                    # first LAYOUT_TABLE_PAGES (their text is still read: a heading there is not lost)
                    ruled = len(page.lines) + len(page.rects) + len(page.curves)
                    tables = page.find_tables() if i < LAYOUT_TABLE_PAGES and ruled <= 3000 \
                        and len(page.chars) <= 30000 else []
                    boxes = [t.bbox for t in tables]
                    blocks: list[tuple[float, str]] = []
                    for t in tables:
                        rows = [_layout_row(r) for r in t.extract()]
                        blocks.append((t.bbox[1], "\n".join(r for r in rows if r)))
                    for ln in page.extract_text_lines():
                        mid = (ln["top"] + ln["bottom"]) / 2
                        if any(b[1] <= mid <= b[3] and ln["x0"] < b[2] and ln["x1"] > b[0] for b in boxes):
                            continue
                        blocks.append((ln["top"], ln["text"]))
                    blocks.sort(key=lambda b: b[0])
                    pages.append(_PAGE_NO.sub("", "\n".join(t for _, t in blocks)))
    except Exception:  # noqa: BLE001 - a hostile or damaged PDF: fall back to the plain text reading
        return None
    return "\n".join(pages)


def parse_pdf(data: bytes, title: str = "") -> AnnualReport:
    """A PDF report: plain text first; where that loses table 三's grid (rows with blank cells unread),
    the layout-aware reading (:func:`pdf_layout_text`). Raises :class:`PdfUnreadable`."""
    pdf = read_pdf(data)
    rep = parse_text(_joined(pdf), title, "pdf")
    rep.truncated = pdf.truncated
    if rep.table3_complete and rep.table4 is not None:
        return rep
    text = pdf_layout_text(data)
    if not text:
        return rep
    grid_rep = parse_text(text, title, "pdf")
    grid_rep.truncated = pdf.truncated
    before = len(rep.table3) + (rep.table4 is not None)
    after = len(grid_rep.table3) + (grid_rep.table4 is not None)
    return grid_rep if after > before else rep


def ofd_text(data: bytes) -> str:
    """Text of an OFD in reading order, page numbers removed. '' for a scanned (image-only) OFD.

    Raises :class:`core.parsing.office.OfficeUnreadable` (damaged, or refused as unsafe).
    """
    return "\n".join(_PAGE_NO.sub("", t) for t in office.ofd_pages(data))


def is_scanned(text: str, min_cjk: int = 50) -> bool:
    """A PDF whose text layer holds almost no Chinese is an image scan."""
    return len(re.findall(r"[\u4e00-\u9fff]", text)) < min_cjk


# -- reading ------------------------------------------------------------------
TITLE_RE = re.compile(r"政府信息公开(?:工作)?的?(?:年度)?(?:工作)?(?:报告|年报)|信息公开(?:工作)?的?年度报告")
_YEAR = re.compile(r"(20\d{2})\s*年")


def is_report_title(title: str) -> bool:
    """'XX局2025年政府信息公开工作年度报告', '2025年度政府信息公开年报', 'XX局关于2025年政府信息公开
    工作的年度报告', '2025年度政府信息公开工作报告'."""
    t = re.sub(r"\s+", "", title or "")
    # 政府网站工作年度报表 is a different annual document (国办函〔2018〕12号).
    return bool(TITLE_RE.search(t)) and "网站工作年度报表" not in t


def title_year(title: str) -> int | None:
    m = _YEAR.search(ascii_digits(re.sub(r"\s+", "", title or "")))
    return int(m.group(1)) if m else None


def parse_html(html: str, title: str = "", source: str = "html") -> AnnualReport:
    return _parse(normalise(html_text(html)), title, source)


def parse_docx(data: bytes, title: str = "") -> AnnualReport:
    """Raises :class:`core.parsing.office.OfficeUnreadable`."""
    return parse_html(office.docx_html(data), title, "docx")


def parse_text(text: str, title: str = "", source: str = "pdf") -> AnnualReport:
    return _parse(normalise(text), title, source)


def _parse(text: str, title: str, source: str) -> AnnualReport:
    rep = AnnualReport(title=title, title_year=title_year(title), source=source, text=text)
    flat, offsets = flatten(text)
    rep.heading_at = heading_lines(text, offsets)
    rep.headings = {h: h in rep.heading_at for h in HEADINGS}
    has21 = any(m in flat for m in _MARKERS_2021)
    has19 = any(m in flat for m in _MARKERS_2019)
    rep.format = "mixed" if has21 and has19 else "2021" if has21 else "2019" if has19 else None
    # 统计期限: "2025年1月1日起至2025年12月31日止", also with the year once: "2019年1月1日到12月31日"
    m = re.search(r"(20\d{2})\s*年\s*0?1\s*月\s*0?1\s*日\s*(?:起)?\s*(?:至|到|—|-|～|~)\s*(?:(20\d{2})\s*年\s*)?12\s*月"
                  r"\s*31\s*日", flat)
    if m and m.group(2) in (None, m.group(1)):
        rep.stat_year = int(m.group(1))
    _read_table3(rep, flat)
    _read_table4(rep, flat)
    m = re.search(r"(?:新收|收到)[^。；;，,\d]{0,16}?申请\s*(?:共\s*|合计\s*)?(\d+)\s*(?:件|个|条)", flat)
    if m:
        rep.text_new_applications = int(m.group(1))
    return rep


def _read_table3(rep: AnnualReport, flat: str) -> None:
    # the table follows its heading: an opening sentence naming the six parts is not the table
    after = rep.heading_at.get(_H[2], 0)
    start = flat.find("本年新收", after)
    if start < 0:
        rep.table3_missing = [k for k, _, kind in _T3 if kind == "row"]
        return
    end_at = rep.heading_at.get(_H[3])
    end_m = re.search(r"行政复议", flat[start:])
    end = end_at if end_at is not None and end_at > start else start + end_m.start() if end_m else len(flat)
    region = flat[start:end]
    found: list[tuple[str, str, int, int]] = []     # key, kind, label start, label end
    pos = 0
    for key, rx, kind in _T3:
        m = re.compile(rx).search(region, pos)
        if not m:
            if kind != "opt":
                rep.table3_missing.append(key)
            continue
        found.append((key, kind, m.start(), m.end()))
        pos = m.end()
    for i, (key, kind, _s, e) in enumerate(found):
        nxt = found[i + 1][2] if i + 1 < len(found) else len(region)
        nums = _values(region[e:nxt])
        if kind == "head":
            continue
        if key == "other" and not nums and any(k.startswith("other.") for k, *_ in found):
            continue                                 # 2021: a head over three sub-rows
        if len(nums) == len(APPLICANT_COLUMNS):
            rep.table3[key] = nums
        else:
            rep.table3_unparsed.append(key)
    _fill_blank_totals(rep)


def _fill_blank_totals(rep: AnnualReport) -> None:
    """Blank cells of table 三 are 0, except a blank 总计 where the row (or the column) adds up to more:
    the unit left it unfilled — a warning (未填写), read as the sum, never an arithmetic failure."""
    t = rep.table3

    def z(v: float) -> float:
        return 0.0 if math.isnan(v) else v

    total_row = t.get("total")
    if total_row is not None:           # the （七）总计 row, column by column, from the result rows
        other = ["other"] if "other" in t else [k for k in ("other.1", "other.2", "other.3") if k in t]
        parts = [k for k in (*_RESULT_PARTS, *other) if k in t]
        for c, col in enumerate(APPLICANT_COLUMNS[:6]):
            if math.isnan(total_row[c]):
                s = sum(z(t[k][c]) for k in parts)
                if s > 0:
                    rep.table3_blank.append((f"表三（七）总计 · {col}", s))
                total_row[c] = s
    for key, vals in t.items():         # each row's 总计 column, from its six applicant columns
        parts6 = [z(v) for v in vals[:6]]
        if math.isnan(vals[6]):
            if sum(parts6) > 0:
                rep.table3_blank.append((f"表三 {_row_name(key)} · 总计", sum(parts6)))
            vals[6] = sum(parts6)
        vals[:6] = parts6


def _read_table4(rep: AnnualReport, flat: str) -> None:
    start = rep.heading_at.get(_H[3])
    if start is None:
        # no heading 四: the table's own caption, but only after table 三 (never the opening sentence)
        after = flat.find("结转下年度", max(0, flat.find("本年新收")))
        m = re.search(r"行政复议.{0,4}行政诉讼", flat[max(after, 0):]) if after >= 0 else None
        if not m:
            return
        start = max(after, 0) + m.end()
    end_at = rep.heading_at.get(_H[4])
    end_m = re.search(r"存在的?主要问题", flat[start:])
    end = end_at if end_at is not None and end_at > start else start + end_m.start() if end_m else len(flat)
    region = flat[start:end]
    last_total = [t.end() for t in re.finditer(r"总\s*计", region)]
    cell = r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])|(?<!\S)_(?!\S)"
    nums = [0.0 if x == BLANK else float(x) for x in re.findall(cell, region[last_total[-1]:] if last_total else region)]
    if len(nums) >= 15 if last_total else len(nums) == 15:    # without a header row: exactly the 15 cells
        rep.table4 = nums[:15]
    elif _H[3] in rep.heading_at:
        rep.table4_unread = True


# -- arithmetic (docs/DOMAIN.md §7) --------------------------------------------------
def _eq(a: float, b: float) -> bool:
    return abs(a - b) < 1e-6


def arithmetic(rep: AnnualReport, previous: AnnualReport | None = None) -> list[Issue]:
    """A1–A4 (failures) and A5–A7 (warnings) that can be evaluated on what was read."""
    out: list[Issue] = [Issue("blank", where, "未填写", _fmt(s)) for where, s in rep.table3_blank]
    t = rep.table3
    for key, vals in t.items():                                        # A2
        if not _eq(vals[6], sum(vals[:6])):
            out.append(Issue("A2", f"表三 {_row_name(key)}", _fmt(vals[6]), _fmt(sum(vals[:6]))))
    other = ["other"] if "other" in t else [k for k in ("other.1", "other.2", "other.3") if k in t]
    parts = [*_RESULT_PARTS, *other]
    if "total" in t and other and all(k in t for k in parts):          # A3
        for c, col in enumerate(APPLICANT_COLUMNS):
            s = sum(t[k][c] for k in parts)
            if not _eq(t["total"][c], s):
                out.append(Issue("A3", f"表三（七）总计 · {col}", _fmt(t["total"][c]), _fmt(s)))
    if all(k in t for k in ("new", "carried", "total", "carry_over")):  # A1
        for c, col in enumerate(APPLICANT_COLUMNS):
            lhs = t["new"][c] + t["carried"][c]
            rhs = t["total"][c] + t["carry_over"][c]
            if not _eq(lhs, rhs):
                out.append(Issue("A1", f"表三 一+二 = 三（七）+四 · {col}", f"{_fmt(lhs)} ≠ {_fmt(rhs)}",
                                 "相等"))
    if rep.table4:                                                     # A4
        for g, name in enumerate(("行政复议", "行政诉讼（未经复议直接起诉）", "行政诉讼（复议后起诉）")):
            vals = rep.table4[g * 5: g * 5 + 5]
            if not _eq(vals[4], sum(vals[:4])):
                out.append(Issue("A4", f"表四 {name} 总计", _fmt(vals[4]), _fmt(sum(vals[:4]))))
    if rep.text_new_applications is not None and "new" in t:           # A5
        allowed = {t["new"][6]} | ({t["new"][6] + t["carried"][6]} if "carried" in t else set())
        if not any(_eq(rep.text_new_applications, a) for a in allowed):
            out.append(Issue("A5", "正文所述新收申请数 vs 表三", str(rep.text_new_applications),
                             _fmt(t["new"][6])))
    if rep.stat_year and rep.title_year and rep.stat_year != rep.title_year:  # A6
        out.append(Issue("A6", "正文统计年度 vs 标题年度", str(rep.stat_year), str(rep.title_year)))
    if previous and "carry_over" in previous.table3 and "carried" in t \
            and not _eq(previous.table3["carry_over"][6], t["carried"][6]):                  # A7
        out.append(Issue("A7", "本年“上年结转” vs 上年报告“结转下年度继续办理”（总计）",
                         _fmt(t["carried"][6]), _fmt(previous.table3["carry_over"][6])))
    return out


_ROW_NAMES = {"new": "一、本年新收", "carried": "二、上年结转", "open": "（一）予以公开", "partial": "（二）部分公开",
              "other": "（六）其他处理", "total": "（七）总计", "carry_over": "四、结转下年度继续办理"}
_GROUP_NAMES = {"deny": "（三）不予公开", "none": "（四）无法提供", "reject": "（五）不予处理", "other": "（六）其他处理"}


def _row_name(key: str) -> str:
    if "." in key:
        group, i = key.split(".")
        return f"{_GROUP_NAMES[group]} 第{i}项"
    return _ROW_NAMES.get(key, key)
