"""Text of DOCX and OFD attachments, with the standard library only (zipfile + xml.etree).

Units publish their 政府信息公开工作年度报告 and 预决算 as Word (DOCX) or OFD files as well as PDF.
Both are ZIP packages of XML:

- **DOCX** (ECMA-376): the main part (``word/document.xml``, found via ``_rels/.rels``) holds
  paragraphs ``w:p`` (text in ``w:t``) and tables ``w:tbl/w:tr/w:tc``. :func:`docx_html`
  rewrites the body as HTML, tables as ``<table>`` markup with ``colspan`` (``w:gridSpan``)
  and ``rowspan`` (``w:vMerge`` restart/continue), so the HTML grid reader
  (:mod:`core.parsing.tables`) reads them exactly like a web page's tables.
- **OFD** (GB/T 33190-2016): ``OFD.xml`` → ``DocBody/DocRoot`` (Document.xml) →
  ``Pages/Page/@BaseLoc`` (each page's Content.xml) → ``TextObject/TextCode``.
  :func:`ofd_text` places every TextCode on the page (TextObject ``Boundary`` origin + ``CTM``
  + TextCode ``X``/``Y``) and reads it in order: lines top to bottom (by Y), left to right
  within a line (by X), like PDF text.

Hostile files: members are parsed with defusedxml, so a package is refused (:class:`OfficeUnreadable`,
"could not verify", never a crash) when any XML member declares a DTD or entity (``<!DOCTYPE``,
``<!ENTITY``: billion laughs, external entities), when it has more than :data:`MAX_MEMBERS`
members, or when what it declares or actually inflates to exceeds :data:`MAX_TOTAL` bytes
(zip bombs). Binary OLE compound files (DOC/WPS/XLS) are ``ole`` for :func:`kind`; their readers are
:mod:`core.parsing.worddoc` (DOC) and xlrd (XLS), see :mod:`core.parsing.doctext`.
"""
from __future__ import annotations

import html as _html
import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MAX_TOTAL = 50_000_000      # bytes of XML read from one package, declared or inflated
MAX_MEMBERS = 5_000         # members in one package (a 300-page OFD has ~1 000)
_CHUNK = 1 << 16


class OfficeUnreadable(Exception):
    """The package could not be read or was refused as unsafe — could not verify."""


# -- what the bytes are ----------------------------------------------------------------------
def kind(data: bytes, url: str = "") -> str:
    """'pdf' | 'docx' | 'ofd' | 'ole' (binary DOC/WPS/XLS) | 'zip' (another package) | 'unknown'.

    Magic bytes first (a ``.doc`` that is really a DOCX is read as one), then the URL's extension.
    """
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    ext = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "ole"
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = {n.lstrip("/").replace("\\", "/").lower() for n in zf.namelist()}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            names = set()
        if "word/document.xml" in names or (ext == "docx" and "[content_types].xml" in names):
            return "docx"
        if "ofd.xml" in names:
            return "ofd"
        return ext if ext in ("docx", "ofd") else "zip"
    if ext in ("pdf", "docx", "ofd"):
        return ext
    if ext in ("doc", "wps", "xls", "et", "dps", "ppt"):
        return "ole"
    return "unknown"


# -- a guarded package ------------------------------------------------------------------------
class _Package:
    """A ZIP read under a budget: member count, declared and inflated size, no DTDs."""

    def __init__(self, data: bytes) -> None:
        try:
            self._zf = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
            raise OfficeUnreadable(f"ZIP损坏：{type(e).__name__}") from e
        if len(infos) > MAX_MEMBERS:
            raise OfficeUnreadable(f"文件成员过多（{len(infos)}个），已拒绝")
        if sum(i.file_size for i in infos) > MAX_TOTAL:
            raise OfficeUnreadable("解压后体积过大，疑似压缩炸弹，已拒绝")
        self._by_name: dict[str, zipfile.ZipInfo] = {}
        self._by_lower: dict[str, zipfile.ZipInfo] = {}
        for i in infos:
            n = i.filename.replace("\\", "/").lstrip("/")
            self._by_name.setdefault(n, i)
            self._by_lower.setdefault(n.lower(), i)
        self._used = 0

    def has(self, name: str) -> bool:
        return self._info(name) is not None

    def _info(self, name: str) -> zipfile.ZipInfo | None:
        n = name.replace("\\", "/").lstrip("/")
        return self._by_name.get(n) or self._by_lower.get(n.lower())

    def read(self, name: str) -> bytes:
        info = self._info(name)
        if info is None:
            raise OfficeUnreadable(f"缺少 {name}")
        buf = bytearray()
        try:
            with self._zf.open(info) as f:
                while chunk := f.read(_CHUNK):
                    buf += chunk
                    if self._used + len(buf) > MAX_TOTAL:
                        raise OfficeUnreadable("解压后体积过大，疑似压缩炸弹，已拒绝")
        except OfficeUnreadable:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
                NotImplementedError) as e:     # CRC, truncated, encrypted, unsupported compression
            raise OfficeUnreadable(f"{name} 无法解压：{type(e).__name__}") from e
        self._used += len(buf)
        return bytes(buf)

    def xml(self, name: str) -> ET.Element:
        return parse_xml(self.read(name), name)


def parse_xml(raw: bytes, name: str = "XML") -> ET.Element:
    """Parse one member with defusedxml, refusing any DTD (billion laughs, external entities).
    The text is decoded here, so a declared legacy charset cannot make expat misread it; a DTD
    hidden behind UTF-16 is still a DTD to the parser, which is where the refusal happens."""
    codecs: tuple[str, ...]
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codecs = ("utf-16",)
    else:
        codecs = ("utf-8-sig", "gb18030")   # OFD is UTF-8 by the standard; some writers use GBK
    for codec in codecs:
        try:
            text = raw.decode(codec)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise OfficeUnreadable(f"{name} 编码无法识别")
    try:
        root: ET.Element = SafeET.fromstring(text, forbid_dtd=True)   # str: expat ignores the declared encoding
        return root
    except DefusedXmlException as e:
        raise OfficeUnreadable(f"{name} 含DTD/实体声明，已拒绝") from e
    except (ET.ParseError, ValueError) as e:
        raise OfficeUnreadable(f"{name} XML错误") from e


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _attr(el: ET.Element, name: str) -> str | None:
    """An attribute by local name (w:val, val, or a namespaced variant)."""
    for k, v in el.attrib.items():
        if _local(k) == name:
            return v
    return None


def _child(el: ET.Element, *path: str) -> ET.Element | None:
    cur: ET.Element | None = el
    for name in path:
        if cur is None:
            return None
        cur = next((c for c in cur if _local(c.tag) == name), None)
    return cur


# -- DOCX -------------------------------------------------------------------------------------
def _docx_main(pkg: _Package) -> str:
    if pkg.has("_rels/.rels"):
        for rel in pkg.xml("_rels/.rels"):
            if (_attr(rel, "Type") or "").endswith("/officeDocument") and _attr(rel, "Target"):
                target = posixpath.normpath((_attr(rel, "Target") or "").lstrip("/"))
                if pkg.has(target):
                    return target
    return "word/document.xml"


def docx_html(data: bytes) -> str:
    """The DOCX body as an HTML document: paragraphs as ``<p>``, tables as ``<table>`` with
    ``rowspan``/``colspan``. Raises :class:`OfficeUnreadable`."""
    pkg = _Package(data)
    root = pkg.xml(_docx_main(pkg))
    body = _child(root, "body")
    if body is None:
        raise OfficeUnreadable("DOCX缺少正文（w:body）")
    try:
        parts = _blocks(body)
    except RecursionError as e:
        raise OfficeUnreadable("DOCX嵌套过深") from e
    return '<html><head><meta charset="utf-8"></head><body>' + "".join(parts) + "</body></html>"


def _blocks(container: ET.Element) -> list[str]:
    """Block content in order: w:p, w:tbl; w:sdt / w:customXml / w:sdtContent unwrapped."""
    out: list[str] = []
    for el in container:
        name = _local(el.tag)
        if name == "p":
            out.append(f"<p>{_para(el)}</p>")
        elif name == "tbl":
            out.append(_table(el))
        elif name in ("sdt", "sdtContent", "customXml", "smartTag", "ins", "moveTo"):
            out += _blocks(el)
    return out


def _para(p: ET.Element) -> str:
    """A paragraph's visible text, escaped; breaks as <br>. Deleted text (w:delText), field codes
    (w:instrText) and the Fallback copy of mc:AlternateContent are skipped."""
    parts: list[str] = []

    def walk(el: ET.Element) -> None:
        for c in el:
            name = _local(c.tag)
            if name == "t":
                parts.append(_html.escape(c.text or ""))
            elif name == "tab":
                parts.append(" ")
            elif name in ("br", "cr"):
                parts.append("<br>")
            elif name == "noBreakHyphen":
                parts.append("-")
            elif name in ("Fallback", "del", "moveFrom", "instrText", "delText", "pPr", "rPr"):
                continue
            elif name == "p":      # a text box's paragraph inside a run
                walk(c)
                parts.append(" ")
            else:
                walk(c)

    walk(p)
    return "".join(parts)


@dataclass
class _Tc:
    html: str
    colspan: int
    rowspan: int = 1


def _int(v: str | None, default: int, cap: int) -> int:
    m = re.match(r"\d+", (v or "").strip())
    return max(1, min(int(m.group()), cap)) if m else default


def _table(tbl: ET.Element) -> str:
    rows: list[list[_Tc]] = []
    above: dict[int, _Tc] = {}               # column → the cell covering it on the row above
    for tr in (c for c in tbl if _local(c.tag) == "tr"):
        row: list[_Tc] = []
        col = 0
        trpr = _child(tr, "trPr")
        before = _child(trpr, "gridBefore") if trpr is not None else None
        if before is not None:
            col = _int(_attr(before, "val"), 0, 100)
            if col:
                row.append(_Tc("", col))
        covering: dict[int, _Tc] = {}
        for tc in _cells(tr):
            tcpr = _child(tc, "tcPr")
            span_el = _child(tcpr, "gridSpan") if tcpr is not None else None
            span = _int(_attr(span_el, "val"), 1, 100) if span_el is not None else 1
            vm = _child(tcpr, "vMerge") if tcpr is not None else None
            if vm is not None and (_attr(vm, "val") or "continue") != "restart" and col in above:
                origin = above[col]
                origin.rowspan += 1
                for c in range(col, col + span):
                    covering[c] = origin
            else:
                cell = _Tc("".join(_blocks(tc)), span)
                row.append(cell)
                for c in range(col, col + span):
                    covering[c] = cell
            col += span
        above = covering
        rows.append(row)
    out = ["<table>"]
    for row in rows:
        out.append("<tr>")
        for cell in row:
            attrs = (f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else "") + \
                    (f' colspan="{cell.colspan}"' if cell.colspan > 1 else "")
            out.append(f"<td{attrs}>{cell.html}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _cells(tr: ET.Element) -> list[ET.Element]:
    """w:tc of a row, including those wrapped in content controls (w:sdt/w:sdtContent)."""
    out: list[ET.Element] = []
    for c in tr:
        name = _local(c.tag)
        if name == "tc":
            out.append(c)
        elif name in ("sdt", "sdtContent", "customXml"):
            out += _cells(c)
    return out


# -- OFD --------------------------------------------------------------------------------------
def _resolve(base_dir: str, loc: str) -> str:
    loc = loc.strip().replace("\\", "/")
    if loc.startswith("/"):
        return posixpath.normpath(loc.lstrip("/"))
    return posixpath.normpath(posixpath.join(base_dir, loc))


def _floats(s: str | None) -> list[float]:
    out = []
    for tok in (s or "").replace(",", " ").split():
        try:
            out.append(float(tok))
        except ValueError:
            continue
    return out


def _deltas(s: str | None) -> list[float]:
    """DeltaX/DeltaY, with the ``g count value`` repetition shorthand."""
    toks = (s or "").split()
    out: list[float] = []
    i = 0
    while i < len(toks):
        if toks[i] == "g" and i + 2 < len(toks):
            try:
                out += [float(toks[i + 2])] * min(int(toks[i + 1]), 10_000)
            except ValueError:
                pass
            i += 3
            continue
        try:
            out.append(float(toks[i]))
        except ValueError:
            pass
        i += 1
    return out


@dataclass
class _Run:
    x: float
    y: float
    end: float          # estimated right edge
    size: float
    text: str


def _char_width(ch: str, size: float) -> float:
    return size if ord(ch) >= 0x2E80 else size * 0.5


def ofd_pages(data: bytes) -> list[str]:
    """Text of each page of each document in the OFD, in reading order. Raises :class:`OfficeUnreadable`."""
    pkg = _Package(data)
    if not pkg.has("OFD.xml"):
        raise OfficeUnreadable("缺少 OFD.xml")
    pages: list[str] = []
    docs = [(_child(body, "DocRoot")) for body in pkg.xml("OFD.xml") if _local(body.tag) == "DocBody"]
    roots = [d.text.strip() for d in docs if d is not None and d.text and d.text.strip()]
    if not roots:
        raise OfficeUnreadable("OFD.xml 未指明 DocRoot")
    for root_loc in roots:
        doc_path = _resolve("", root_loc)
        doc = pkg.xml(doc_path)
        doc_dir = posixpath.dirname(doc_path)
        page_list = _child(doc, "Pages")
        for page in (p for p in (page_list if page_list is not None else []) if _local(p.tag) == "Page"):
            loc = _attr(page, "BaseLoc")
            if not loc:
                continue
            path = _resolve(doc_dir, loc)
            if not pkg.has(path) and pkg.has(_resolve("", loc)):
                path = _resolve("", loc)      # some writers give BaseLoc from the package root
            try:
                pages.append(_page_text(pkg.xml(path)))
            except RecursionError as e:
                raise OfficeUnreadable("OFD嵌套过深") from e
    return pages


def ofd_text(data: bytes) -> str:
    return "\n".join(ofd_pages(data))


def _page_text(page: ET.Element) -> str:
    runs: list[_Run] = []
    for obj in page.iter():
        if _local(obj.tag) != "TextObject":
            continue
        box = _floats(_attr(obj, "Boundary"))
        bx, by = (box[0], box[1]) if len(box) >= 2 else (0.0, 0.0)
        size = (_floats(_attr(obj, "Size")) or [3.5])[0] or 3.5
        ctm = _floats(_attr(obj, "CTM"))
        a, b, c, d, e, f = ctm if len(ctm) == 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        scale = (a * a + b * b) ** 0.5 or 1.0
        x = y = 0.0
        for code in obj:
            if _local(code.tag) != "TextCode":
                continue
            text = code.text or ""
            if _attr(code, "X") is not None:
                x = (_floats(_attr(code, "X")) or [x])[0]
            if _attr(code, "Y") is not None:
                y = (_floats(_attr(code, "Y")) or [y])[0]
            dx = _deltas(_attr(code, "DeltaX"))
            if not text.strip():
                continue
            ax, ay = bx + a * x + c * y + e, by + b * x + d * y + f
            width = (sum(dx[: len(text) - 1]) + _char_width(text[-1], size)) if dx else \
                sum(_char_width(ch, size) for ch in text)
            runs.append(_Run(ax, ay, ax + width * scale, size * scale, text))
            x += width              # a following TextCode without X continues after this one
    return _reading_order(runs)


def _reading_order(runs: list[_Run]) -> str:
    """Lines by Y (a run within 0.4 × font size of a line's first baseline joins it), then X;
    runs that touch are joined without a space (one TextCode per character is common)."""
    runs.sort(key=lambda r: (r.y, r.x))
    lines: list[list[_Run]] = []
    for r in runs:
        if lines and r.y - lines[-1][0].y <= max(0.8, 0.4 * lines[-1][0].size):
            lines[-1].append(r)
        else:
            lines.append([r])
    out = []
    for line in lines:
        line.sort(key=lambda r: r.x)
        text = line[0].text
        for prev, cur in zip(line, line[1:], strict=False):
            gap = cur.x - prev.end
            text += ("" if gap < 0.3 * max(prev.size, cur.size) else " ") + cur.text
        out.append(text)
    return "\n".join(out)
