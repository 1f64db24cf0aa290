"""Readable text of a stored page or attachment as located lines, for checks that read wording. Pure.

HTML pages and DOCX (via :func:`core.parsing.office.docx_html`) keep their tables: each row becomes one
line with cells joined by ``" | "`` and remembers its table's header row, so a detector can tell a
"联系电话" column of a 低保 list from an office's contact line, and two adjacent cells never merge into
one long digit run. PDF (pypdf) and OFD give lines per page; a CSV 名单 is read like a sheet and a
TXT as prose lines; XLSX sheets are read with openpyxl in read-only mode under size limits (:func:`xlsx_lines`), binary XLS with xlrd (:func:`xls_lines`; the
standard reader of BIFF, rather than parsing OLE records by hand), binary Word (.doc) from its piece
table (:mod:`core.parsing.worddoc`: paragraphs, a table row as one line). WPS and other OLE files
are not read: the caller reports them as unreadable, never as clean.

Locators are what an office reader needs to find the spot: ``正文第12行``, ``表格2第5行``,
``第3页第7行``, ``工作表“名单”第14行``.

Reading is bounded (:class:`Limits`: lines per document, rows per sheet, cells per workbook, columns,
sheets; the checks take them from rules.toml). A document cut at a limit says so in
:attr:`Document.cut`, in words for the report: a check that finds nothing in it may only say
what it read, never that the document is clean.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import lxml.html

from core.parsing import office, worddoc
from core.parsing.html import document_read
from core.parsing.pdfread import PdfUnreadable, read_pdf
from core.parsing.privacy import CELL_SEP, Line

MAX_XLSX_INFLATED = 30_000_000   # bytes of XML an XLSX may inflate to (a safety refusal, never a cut)
MAX_SHEET_ROWS = 20_000          # rows read per sheet
MAX_CELLS = 300_000              # cells read per workbook
MAX_LINES = 50_000               # lines kept per document
MAX_COLUMNS = 200                # columns read per sheet row
MAX_SHEETS = 100                 # sheets read per workbook


@dataclass(frozen=True)
class Limits:
    """How much of one document is read (defaults above; checks pass rules.toml's values)."""
    max_lines: int = MAX_LINES
    max_sheet_rows: int = MAX_SHEET_ROWS
    max_cells: int = MAX_CELLS
    max_columns: int = MAX_COLUMNS
    max_sheets: int = MAX_SHEETS


DEFAULT_LIMITS = Limits()
_BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "dd",
          "dt", "pre", "blockquote", "ul", "ol", "form", "header", "footer", "nav", "title"}
_WS = re.compile(r"[ \t\u3000\xa0]+")


class Unreadable(Exception):
    """The document could not be read (damaged, refused as unsafe, unsupported format)."""


@dataclass
class Document:
    kind: str                       # html | pdf | doc | docx | ofd | xlsx | xls | csv | txt
    lines: list[Line] = field(default_factory=list)
    cut: str | None = None          # why only part of it was read (for the report), None: read whole


class _Lines:
    """Lines of one document under :attr:`Limits.max_lines`; remembers the first reason it was cut."""

    def __init__(self, limits: Limits) -> None:
        self.lines: list[Line] = []
        self.cut: str | None = None
        self.limits = limits

    @property
    def full(self) -> bool:
        return len(self.lines) >= self.limits.max_lines

    def add(self, line: Line) -> bool:
        """False (and the document marked cut) when the line is over the limit."""
        if self.full:
            self.stop(f"超过{self.limits.max_lines}行，其后内容未读取")
            return False
        self.lines.append(line)
        return True

    def stop(self, why: str) -> None:
        self.cut = self.cut or why


def _clean(text: str) -> str:
    return _WS.sub(" ", text or "").strip()


def _cells(tr: lxml.html.HtmlElement) -> list[str]:
    return [_cell_text(c.text_content()) for c in tr if c.tag in ("td", "th")]


def _is_header(cells: list[str]) -> bool:
    """A row of labels: some CJK text and no long digit run."""
    joined = "".join(cells)
    return bool(re.search(r"[\u4e00-\u9fff]", joined)) and not re.search(r"\d{6,}", joined)


def html_lines(html: str, limits: Limits = DEFAULT_LIMITS) -> list[Line]:
    """Lines of an HTML page: prose lines, then each table's rows (with their header row)."""
    return _html(html, limits).lines


def _html(html: str, limits: Limits) -> _Lines:
    out = _Lines(limits)
    doc, truncated = document_read(html)
    if doc is None:
        return out
    if truncated:       # a hostile or broken page cannot hide its end behind 256 nested elements
        out.stop("页面嵌套过深，HTML解析器只读到前一部分")
    for bad in doc.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    rows: list[Line] = []
    tables = doc.xpath("//table[not(ancestor::table)]")
    for ti, table in enumerate(tables, start=1):
        header: str | None = None
        for ri, tr in enumerate(table.iter("tr"), start=1):
            cells = _cells(tr)
            if not any(cells):
                continue
            text = CELL_SEP.join(cells)
            if header is None and _is_header(cells):
                header = text
            if len(rows) >= limits.max_lines:
                out.stop(f"表格超过{limits.max_lines}行，其后内容未读取")
                out.lines = rows
                return out
            rows.append(Line(text, f"表格{ti}第{ri}行", header))
        table.drop_tree()
    for el in doc.iter(*_BLOCK):        # (lxml's HTML parser lowercases tag names; comments are not yielded)
        el.tail = "\n" + (el.tail or "")
    # prose lines, then the tables' rows, at most max_lines in all (a run of spaces never crosses a
    # line, so the whole text is cleaned at once)
    prose = [t for t in (x.strip() for x in _WS.sub(" ", doc.text_content()).split("\n")) if t]
    room = limits.max_lines
    out.lines = [Line(t, f"正文第{n}行") for n, t in enumerate(prose[:room], start=1)] + rows[:max(0, room - len(prose))]
    if len(prose) + len(rows) > room:
        out.stop(f"超过{limits.max_lines}行，其后内容未读取")
    return out


def text_lines(text: str, prefix: str = "", limits: Limits = DEFAULT_LIMITS) -> list[Line]:
    out = _Lines(limits)
    _text(text, prefix, out)
    return out.lines


def _text(text: str, prefix: str, out: _Lines) -> bool:
    """Append a page's lines; False once the document is full."""
    n = 0
    for t in text.splitlines():
        t = _clean(t)
        if t:
            n += 1
            if not out.add(Line(t, f"{prefix}第{n}行")):
                return False
    return True


# -- spreadsheets -------------------------------------------------------------------------------

# openpyxl parses through defusedxml when it is installed (it is a dependency); this scan refuses
# a DTD before openpyxl starts, so a damaged or hostile workbook costs no parse at all.
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def guard_package(data: bytes) -> None:
    """Refuse zip bombs and XML with DTDs/entities before openpyxl parses anything."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
        raise Unreadable(f"XLSX损坏：{type(e).__name__}") from e
    if len(infos) > office.MAX_MEMBERS:
        raise Unreadable("文件成员过多，已拒绝")
    if sum(i.file_size for i in infos) > MAX_XLSX_INFLATED:
        raise Unreadable("解压后体积过大，疑似压缩炸弹，已拒绝")
    used = 0
    for info in infos:
        if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        try:
            with zf.open(info) as f:
                while chunk := f.read(1 << 16):
                    used += len(chunk)
                    if used > MAX_XLSX_INFLATED:
                        raise Unreadable("解压后体积过大，疑似压缩炸弹，已拒绝")
                    if _DTD.search(chunk):
                        raise Unreadable("XML含DTD/实体声明，已拒绝")
        except Unreadable:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as e:
            raise Unreadable(f"XLSX无法解压：{type(e).__name__}") from e


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    return _clean(str(v)).replace("|", "¦")


def _sheet_lines(name: str, rows: Iterable[tuple[int, Sequence[object]]], budget: list[int],
                 out: _Lines) -> bool:
    """Append a sheet's non-empty rows (the first label row is the header of those below it);
    False once the workbook's cell budget or the document's lines are spent (XLSX and XLS share
    this reading). A row past ``max_sheet_rows`` or a filled cell past ``max_columns`` marks the
    document cut: those rows and cells were not read."""
    lim = out.limits
    header: str | None = None
    for ri, values in rows:
        if ri > lim.max_sheet_rows:
            if any(v not in (None, "") for v in values):
                out.stop(f"工作表“{name}”超过{lim.max_sheet_rows}行，其后未读取")
            continue
        if len(values) > lim.max_columns and any(v not in (None, "") for v in values[lim.max_columns:]):
            out.stop(f"工作表“{name}”第{ri}行超过{lim.max_columns}列，其后未读取")
        texts = [_cell_text(v) for v in values[:lim.max_columns]]
        budget[0] -= len(texts)
        if budget[0] < 0:
            out.stop(f"超过{lim.max_cells}个单元格，工作表“{name}”第{ri}行起未读取")
            return False
        while texts and not texts[-1]:
            texts.pop()
        if not any(texts):
            continue
        text = CELL_SEP.join(texts)
        if header is None and _is_header(texts) and len([t for t in texts if t]) > 1:
            header = text
        if not out.add(Line(text, f"工作表“{name}”第{ri}行", header)):
            return False
    return True


def xlsx_lines(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[Line]:
    """Rows of every sheet (values, never formulas), read-only, within the limits.
    Raises :class:`Unreadable`."""
    return _xlsx(data, limits).lines


def _xlsx(data: bytes, limits: Limits) -> _Lines:
    guard_package(data)
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # openpyxl warns about styles and extensions it drops
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types on a damaged file
        raise Unreadable(f"XLSX无法读取：{type(e).__name__}") from e
    out = _Lines(limits)
    budget = [limits.max_cells]   # cells left for the whole workbook, shared by its sheets
    try:
        for si, ws in enumerate(wb.worksheets):
            if si >= limits.max_sheets:
                out.stop(f"超过{limits.max_sheets}个工作表，其后未读取")
                break
            # one row past the limit tells a sheet that goes on from one that ends there
            rows = enumerate(ws.iter_rows(values_only=True, max_row=limits.max_sheet_rows + 1), start=1)
            if not _sheet_lines(_clean(str(ws.title))[:31], rows, budget, out):
                break
    except Exception as e:  # a damaged sheet part: what was read so far is not enough to say "clean"
        raise Unreadable(f"XLSX无法读取：{type(e).__name__}") from e
    finally:
        wb.close()
    return out


def xls_lines(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[Line]:
    """Rows of a binary Excel (BIFF, .xls) workbook via xlrd, within the same limits as XLSX.
    Raises :class:`Unreadable` — also for an OLE file that is not a workbook (DOC, WPS)."""
    return _xls(data, limits).lines


def _xls(data: bytes, limits: Limits) -> _Lines:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
    except Exception as e:  # xlrd raises XLRDError, struct.error, IndexError … on other or damaged files
        raise Unreadable("DOC/WPS二进制格式或XLS损坏，无法读取") from e
    out = _Lines(limits)
    budget = [limits.max_cells]   # cells left for the whole workbook, shared by its sheets
    try:
        if book.nsheets > limits.max_sheets:
            out.stop(f"超过{limits.max_sheets}个工作表，其后未读取")
        for si in range(min(book.nsheets, limits.max_sheets)):
            sh = book.sheet_by_index(si)
            name = _clean(sh.name)[:31]
            if sh.ncols > limits.max_columns:
                out.stop(f"工作表“{name}”超过{limits.max_columns}列，其后未读取")
            if sh.nrows > limits.max_sheet_rows:
                out.stop(f"工作表“{name}”超过{limits.max_sheet_rows}行，其后未读取")
            rows = ((ri + 1, sh.row_values(ri, 0, min(sh.ncols, limits.max_columns)))
                    for ri in range(min(sh.nrows, limits.max_sheet_rows)))
            if not _sheet_lines(name, rows, budget, out):
                break
            book.unload_sheet(si)
    except Exception as e:  # a damaged sheet record
        raise Unreadable(f"XLS无法读取：{type(e).__name__}") from e
    finally:
        book.release_resources()
    return out


# -- any stored body ------------------------------------------------------------------------------

def kind_of(data: bytes, url: str = "", content_type: str | None = None) -> str:
    """html | pdf | docx | ofd | xlsx | ole | zip | unknown."""
    k = office.kind(data, url)
    if k in ("zip", "unknown") and data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = {n.lower() for n in zf.namelist()}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            names = set()
        if "xl/workbook.xml" in names:
            return "xlsx"
    if k == "unknown" and ("html" in (content_type or "") or data.lstrip()[:1] == b"<"):
        return "html"
    if k == "unknown" and b"\0" not in data[:4096]:      # plain text: a 名单 as .csv or .txt
        ext = url.split("?", 1)[0].split("#", 1)[0].rsplit(".", 1)[-1].lower()
        ctype = (content_type or "").split(";", 1)[0].strip().lower()
        if ext == "csv" or ctype in ("text/csv", "application/csv"):
            return "csv"
        if ext == "txt" or ctype == "text/plain":
            return "txt"
    return k


def _plain(data: bytes, encoding: str | None) -> str:
    """A text file's characters: the crawler's encoding, else UTF-8 (BOM or not), else GB18030 (what
    offices' Excel and Notepad save)."""
    for codec in ([encoding] if encoding else []) + ["utf-8-sig", "gb18030"]:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("gb18030", errors="replace")


def _csv(text: str, limits: Limits) -> _Lines:
    """Rows of a CSV 名单, read like a worksheet (its first label row is the header)."""
    out = _Lines(limits)
    rows = csv.reader(io.StringIO(text.replace("\0", "")))
    try:
        _sheet_lines("CSV", enumerate(rows, start=1), [limits.max_cells], out)
    except csv.Error as e:
        raise Unreadable(f"CSV无法读取（{e}）") from e
    return out


def read_document(data: bytes, url: str = "", content_type: str | None = None,
                  encoding: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Document:
    """Lines of a stored body, and whether it was cut (:attr:`Document.cut`).
    Raises :class:`Unreadable` (say why: "could not verify")."""
    k = kind_of(data, url, content_type)
    if k == "html":
        return _doc("html", _html(data.decode(encoding or "utf-8", errors="replace"), limits))
    if k == "csv":
        return _doc("csv", _csv(_plain(data, encoding), limits))
    if k == "txt":
        out = _Lines(limits)
        _text(_plain(data, encoding), "正文", out)
        return _doc("txt", out)
    if k == "xlsx":
        return _doc("xlsx", _xlsx(data, limits))
    if k == "docx":
        try:
            return _doc("docx", _html(office.docx_html(data), limits))
        except office.OfficeUnreadable as e:
            raise Unreadable(f"DOCX无法读取（{e}）") from e
    if k == "ofd":
        try:
            pages = office.ofd_pages(data)
        except office.OfficeUnreadable as e:
            raise Unreadable(f"OFD无法读取（{e}）") from e
        out = _Lines(limits)
        for i, t in enumerate(pages, 1):
            if not _text(t, f"第{i}页", out):
                out.cut = f"超过{limits.max_lines}行，第{i}页起未读完（共{len(pages)}页）"  # the page says more
                break
        return _doc("ofd", out)
    if k == "pdf":
        return _doc("pdf", _pdf(data, limits))
    if k == "ole":      # binary Word (.doc) and Excel (.xls) are read; WPS, PowerPoint and the like are not
        try:
            return _doc("doc", _word(data, limits))
        except worddoc.NotWord:         # a workbook (or damaged): xlrd says which
            return _doc("xls", _xls(data, limits))
    raise Unreadable("格式无法读取（仅支持HTML/PDF/DOC/DOCX/OFD/XLS/XLSX/CSV/TXT）")


def _word(data: bytes, limits: Limits) -> _Lines:
    """Paragraphs of a binary Word document as prose lines; a table row as one line, its cells
    joined like an HTML table's and remembering its table's header row."""
    cap = limits.max_lines * 200     # a line is rarely over 200 characters: the cap bounds the work
    try:
        text, cut = worddoc.doc_text(data, cap)
    except worddoc.NotWord:
        raise
    except office.OfficeUnreadable as e:
        raise Unreadable(f"DOC无法读取（{e}）") from e
    out = _Lines(limits)
    n = table = row = 0
    header: str | None = None
    in_table = False
    for raw in text.split("\n"):
        if worddoc.CELL in raw:
            cells = [_cell_text(c) for c in raw.split(worddoc.CELL)]
            while cells and not cells[-1]:
                cells.pop()
            if not in_table:
                table, row, header, in_table = table + 1, 0, None, True
            row += 1
            if not any(cells):
                continue
            line = CELL_SEP.join(cells)
            if header is None and _is_header(cells):
                header = line
            if not out.add(Line(line, f"表格{table}第{row}行", header)):
                return out
            continue
        in_table = False
        t = _clean(raw)
        if t:
            n += 1
            if not out.add(Line(t, f"正文第{n}行")):
                return out
    if cut:
        out.stop(f"超过{cap}字，其后内容未读取")
    return out


def _doc(kind: str, read: _Lines) -> Document:
    return Document(kind, read.lines, read.cut)


def _pdf(data: bytes, limits: Limits) -> _Lines:
    """Pages until the line limit; a file that ends early (no %%EOF) is marked cut: pypdf reads
    what is there, the rest of the document may be missing."""
    out = _Lines(limits)
    try:
        # one line over the limit tells a document that goes on from one that ends there
        pdf = read_pdf(data, max_lines=limits.max_lines + 1)
    except PdfUnreadable as e:
        raise Unreadable(f"PDF无法读取（{e}）") from e
    for i, text in enumerate(pdf.pages, start=1):
        if not _text(text, f"第{i}页", out):
            out.cut = f"超过{limits.max_lines}行，第{i}页起未读完（共{pdf.total}页）"  # the page says more
            break
    if len(pdf.pages) < pdf.total and not out.cut:     # the lines ended with a page: the next was not read
        out.stop(f"超过{limits.max_lines}行，第{len(pdf.pages) + 1}页起未读取（共{pdf.total}页）")
    if pdf.truncated:
        out.stop("PDF文件不完整（结尾缺失），可能只读到部分内容")
    return out
