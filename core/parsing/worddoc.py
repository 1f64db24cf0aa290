"""The text of a binary Word 97–2003 document (``.doc``), read from its piece table.

Chinese government sites still publish many attachments as ``.doc``: application forms, 公示名单,
规范性文件. A check that searches attachments (personal data, 严重错误 wording) may only give a
clean bill over what it read, so an unread ``.doc`` leaves it at 无法核验; this reader lets it read.

Why this shape: the OLE2 container is parsed by ``olefile`` (a well-kept, pure-Python reader),
opened so that any structural defect is fatal and with every stream's declared size checked
against the file's, so a hostile file cannot make it read a looping sector chain for gigabytes.
The Word part is small and fixed by [MS-DOC]: the FIB at the start of the ``WordDocument`` stream
names the table stream (``0Table`` / ``1Table``), the lengths of the text stories and where the
piece table (``Clx``) lies; each piece maps a run of character positions to bytes, either 8-bit
(cp1252, "compressed") or UTF-16LE. All stories are read — the main text, then footnotes, headers
and footers, comments, endnotes and text boxes — since a form laid out in text boxes or a name in
a header is as published as the body. Field codes (``HYPERLINK "…"``) are dropped, their shown
result kept. Table rows are told apart by the paragraph property that ends a row (``sprmPFTtp``),
so a row is one line with its cells separated by :data:`CELL`.

Everything is bounded by the caller's ``max_chars``; a longer text is returned cut, and says so. A
file whose pieces do not cover its text, or whose field codes never close, is unreadable, never a
shorter text that looks complete.
"""
from __future__ import annotations

import io
import struct
from typing import Any

from core.parsing.office import OfficeUnreadable

CELL = "\x07"               # separates the cells of a table row in the returned text
_W_IDENT = 0xA5EC           # FibBase.wIdent of a Word binary document
_MIN_NFIB = 0xC1            # Word 97 and later; Word 6/95 files use another FIB
_F_ENCRYPTED = 0x0100
_F_WHICH_TABLE = 0x0200     # 1 → the table stream is "1Table", else "0Table"
# FibRgLw97: ccpText, ccpFtn, ccpHdd, (ccpMcr, reserved), ccpAtn, ccpEdn, ccpTxbx, ccpHdrTxbx
_CCP_STORIES = (0x4C, 0x50, 0x54, 0x5C, 0x60, 0x64, 0x68)
_FC_BTE_PAPX = 0x102        # FibRgFcLcb97.fcPlcfBtePapx / lcbPlcfBtePapx: paragraph properties
_FC_CLX = 0x1A2             # FibRgFcLcb97.fcClx / lcbClx: the piece table
_MAX_PIECES = 100_000       # a real document has a few hundred at most
_MAX_PAPX_PAGES = 100_000
_ROW = "\x1d"               # internal: the cell mark that ends a row (becomes a newline)
_TTP_SPRMS = (0x2417, 0x244C)   # sprmPFTtp, sprmPFInnerTtp: "this paragraph mark ends a table row"
_SPRA_SIZE = {0: 1, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2, 7: 3}   # operand size by a sprm's spra bits

# Characters with a structural meaning in the text stream ([MS-DOC] 2.4.1): what a reader sees.
_FIELD_BEGIN, _FIELD_SEP, _FIELD_END = "\x13", "\x14", "\x15"
# layout marks as a reader sees them; every other control character (pictures, fields' marks) dropped
_VISIBLE = str.maketrans({**{chr(c): None for c in range(0x20) if chr(c) not in "\n\t" + CELL},
                          "\r": "\n", "\x0b": "\n", "\x0c": "\n", _ROW: "\n", "\x1e": "-", "\xa0": " "})


class NotWord(OfficeUnreadable):
    """The bytes are no Word document at all (an OLE file that cannot be opened, or one without a
    ``WordDocument`` stream, such as a workbook): the caller may try its other OLE readers."""


def doc_text(data: bytes, max_chars: int) -> tuple[str, bool]:
    """``(text, cut)``: the text of a ``.doc``, at most ``max_chars`` characters; table rows are
    lines whose cells are separated by :data:`CELL`.

    Raises OfficeUnreadable (with a reason in Chinese, for the report) when the bytes are not a
    readable Word binary document: :class:`NotWord` for another OLE file (a workbook, a WPS or
    PowerPoint file) or one that cannot be opened, OfficeUnreadable for an encrypted or Word 6/95
    document or a damaged stream or piece table."""
    try:
        ole = _open(data)
        is_word = bool(ole.exists("WordDocument"))
    except Exception as e:      # olefile raises OleFileError, OSError, struct.error … on a damaged file
        raise NotWord(f"OLE容器损坏：{type(e).__name__}") from None
    if not is_word:
        ole.close()
        raise NotWord("不是Word文档（无WordDocument流）")
    try:
        with ole:
            word = _stream(ole, "WordDocument", len(data))
            flags, ccp, fc_clx, lcb_clx = _fib(word)
            table_name = "1Table" if flags & _F_WHICH_TABLE else "0Table"
            if not ole.exists(table_name):
                raise OfficeUnreadable(f"Word文档缺少{table_name}流")
            table = _stream(ole, table_name, len(data))
    except OfficeUnreadable:
        raise
    except Exception as e:      # olefile raises OleFileError, OSError, struct.error … on a damaged file
        raise OfficeUnreadable(f"OLE容器损坏：{type(e).__name__}") from None
    pieces = _pieces(table, fc_clx, lcb_clx, ccp)
    raw, cut = _text(word, pieces, ccp, max_chars, _row_ends(word, table))
    return _visible(raw, cut), cut


def _open(data: bytes) -> Any:      # an olefile.OleFileIO (olefile is untyped)
    import olefile

    # DEFECT_INCORRECT: a sector chain that loops or runs past the file is an error, not a warning
    return olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)


def _stream(ole: Any, name: str, file_size: int) -> bytes:
    if ole.get_size(name) > file_size:          # a stream cannot be larger than the file holding it
        raise OfficeUnreadable(f"{name}流声明的长度超过文件大小")
    return bytes(ole.openstream(name).read())


def _fib(word: bytes) -> tuple[int, int, int, int]:
    """(flags, characters in all stories, fcClx, lcbClx)."""
    if len(word) < _FC_CLX + 8:
        raise OfficeUnreadable("WordDocument流过短，无文件信息块（FIB）")
    ident, nfib = struct.unpack_from("<HH", word, 0)
    if ident != _W_IDENT:
        raise OfficeUnreadable("不是Word 97–2003文档（FIB无法识别）")
    if nfib < _MIN_NFIB:
        raise OfficeUnreadable("Word 6/95格式，不支持")
    flags, = struct.unpack_from("<H", word, 0x0A)
    if flags & _F_ENCRYPTED:
        raise OfficeUnreadable("已加密")
    ccps = [struct.unpack_from("<i", word, at)[0] for at in _CCP_STORIES]
    if any(c < 0 for c in ccps):
        raise OfficeUnreadable("FIB中的正文长度为负")
    fc_clx, lcb_clx = struct.unpack_from("<II", word, _FC_CLX)
    return flags, sum(ccps), fc_clx, lcb_clx


def _pieces(table: bytes, fc_clx: int, lcb_clx: int, ccp: int) -> list[tuple[int, int, int, bool]]:
    """The piece table: (cp_start, cp_end, byte offset, compressed) per piece; it must cover the text."""
    clx = table[fc_clx:fc_clx + lcb_clx]
    if len(clx) != lcb_clx or not clx:
        raise OfficeUnreadable("片段表不在表流范围内")
    i = 0
    while i < len(clx) and clx[i] == 0x01:          # Prc: property modifiers, skipped
        if i + 3 > len(clx):
            raise OfficeUnreadable("片段表被截断")
        size, = struct.unpack_from("<h", clx, i + 1)
        if size < 0:
            raise OfficeUnreadable("片段表损坏")
        i += 3 + size
    if i + 5 > len(clx) or clx[i] != 0x02:
        raise OfficeUnreadable("片段表损坏（无Pcdt）")
    lcb, = struct.unpack_from("<I", clx, i + 1)
    plc = clx[i + 5:i + 5 + lcb]
    if len(plc) != lcb or lcb < 16 or (lcb - 4) % 12:
        raise OfficeUnreadable("片段表损坏（PlcPcd）")
    n = (lcb - 4) // 12
    if n > _MAX_PIECES:
        raise OfficeUnreadable("片段数量异常")
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    if cps[0] != 0 or cps[-1] < ccp:
        raise OfficeUnreadable("片段表未覆盖全部正文")
    out = []
    for k in range(n):
        fc, = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * k + 2)
        compressed = bool(fc & 0x40000000)
        offset = (fc & 0x3FFFFFFF) // 2 if compressed else fc & 0x3FFFFFFF
        if cps[k + 1] < cps[k]:
            raise OfficeUnreadable("片段表顺序错误")
        out.append((cps[k], cps[k + 1], offset, compressed))
    return out


def _text(word: bytes, pieces: list[tuple[int, int, int, bool]], ccp: int, max_chars: int,
          row_ends: set[int]) -> tuple[str, bool]:
    """The first ``ccp`` characters (all stories), capped at ``max_chars``; the cell marks that end
    a table row (their byte offset + width is in ``row_ends``) become :data:`_ROW`."""
    parts: list[str] = []
    want = min(ccp, max_chars)
    got = 0
    for start, end, offset, compressed in pieces:
        if got >= want:
            break
        count = min(end - start, want - got)
        if count <= 0:
            continue
        width = 1 if compressed else 2
        chunk = word[offset:offset + count * width]
        if len(chunk) < count * width:
            raise OfficeUnreadable("片段指向文档流之外")
        # cp1252 is [MS-DOC]'s 8-bit encoding; its five undefined bytes become U+FFFD, not an error
        text = chunk.decode("cp1252", "replace") if compressed else chunk.decode("utf-16-le", "replace")
        if CELL in text and row_ends:
            chars = list(text)
            for k, ch in enumerate(chars):
                if ch == CELL and offset + (k + 1) * width in row_ends:
                    chars[k] = _ROW
            text = "".join(chars)
        parts.append(text)
        got += count
    if got < want:
        raise OfficeUnreadable("正文未被片段表完整覆盖")
    return "".join(parts), ccp > max_chars


def _row_ends(word: bytes, table: bytes) -> set[int]:
    """Byte offsets just past the paragraph marks that end a table row (sprmPFTtp/sprmPFInnerTtp = 1),
    read from the paragraph properties (PlcBtePapx → PapxFkp pages). Best effort: a page that cannot
    be read only leaves its rows run together, it never stops the reading."""
    fc, lcb = struct.unpack_from("<II", word, _FC_BTE_PAPX)
    plc = table[fc:fc + lcb]
    if len(plc) != lcb or lcb < 8 or (lcb - 4) % 8:
        return set()
    n = min((lcb - 4) // 8, _MAX_PAPX_PAGES)
    out: set[int] = set()
    for k in range(n):
        pn, = struct.unpack_from("<I", plc, 4 * ((lcb - 4) // 8 + 1) + 4 * k)
        page = word[(pn & 0x3FFFFF) * 512:(pn & 0x3FFFFF) * 512 + 512]
        if len(page) == 512:
            out |= _page_row_ends(page)
    return out


def _page_row_ends(page: bytes) -> set[int]:
    crun = page[511]
    if 4 * (crun + 1) + 13 * crun > 511:
        return set()
    rgfc = struct.unpack_from(f"<{crun + 1}I", page, 0)
    out = set()
    for i in range(crun):
        b = page[4 * (crun + 1) + 13 * i] * 2          # the PapxInFkp's offset in the page, in words
        if not b or b >= 511:
            continue
        cb = page[b]
        start, size = (b + 2, 2 * page[b + 1]) if cb == 0 else (b + 1, 2 * cb - 1)
        if _ends_row(page[start + 2:min(start + size, 511)]):    # the grpprl after the 2-byte istd
            out.add(rgfc[i + 1])
    return out


def _ends_row(grpprl: bytes) -> bool:
    j = 0
    while j + 2 <= len(grpprl):
        sprm, = struct.unpack_from("<H", grpprl, j)
        j += 2
        spra = sprm >> 13
        if spra == 6:                                   # variable length: a size byte first
            if j >= len(grpprl):
                return False
            if sprm == 0xD608 and j + 2 <= len(grpprl):   # sprmTDefTable: a 2-byte size (+1)
                width = struct.unpack_from("<H", grpprl, j)[0] + 1
            else:
                width = grpprl[j] + 1
        else:
            width = _SPRA_SIZE[spra]
        if sprm in _TTP_SPRMS and j < len(grpprl) and grpprl[j] == 1:
            return True
        j += width
    return False


def _visible(raw: str, cut: bool) -> str:
    """What a reader sees: field codes dropped (their results kept), layout marks as newlines."""
    if _FIELD_BEGIN not in raw:
        return raw.translate(_VISIBLE)
    out: list[str] = []
    depth = 0                    # inside a field's code part (between begin and separator)
    stack: list[bool] = []       # per open field: still in its code part
    for ch in raw:
        if ch == _FIELD_BEGIN:
            stack.append(True)
            depth += 1
        elif ch == _FIELD_SEP and stack:
            if stack[-1]:
                stack[-1] = False
                depth -= 1
        elif ch == _FIELD_END and stack:
            if stack.pop():
                depth -= 1
        elif depth == 0:
            out.append(ch)
    if depth and not cut:
        # a field code never closed hides everything after it: a damaged file, not an empty one
        raise OfficeUnreadable("域代码未闭合，其后内容无法读取")
    return "".join(out).translate(_VISIBLE)
