"""The text of a binary Word 97–2003 document (``.doc``), read from its piece table.

Chinese government sites still publish many attachments as ``.doc``: application forms, 公示名单,
规范性文件. A check that searches attachments (personal data, 严重错误 wording) may only give a
clean bill over what it read, so an unread ``.doc`` leaves it at 无法核验; this reader lets it read.

Why this shape: the OLE2 container is parsed by ``olefile`` (a well-kept, pure-Python reader with
its own bounds checks on sectors and directory chains). The Word part is small and fixed by
[MS-DOC]: the FIB at the start of the ``WordDocument`` stream names the table stream (``0Table`` /
``1Table``), the length of the main text (``ccpText``) and where the piece table (``Clx``) lies; each
piece maps a run of character positions to bytes, either 8-bit (cp1252, "compressed") or UTF-16LE.
We read the main document text only (no headers, footnotes, comments), which is what a reader of
the published file sees on its pages. Field codes (``HYPERLINK "…"``) are dropped, their shown
result kept. Encrypted or malformed files raise :class:`~core.parsing.office.OfficeUnreadable`.

Everything is bounded by the caller's ``max_chars``; a longer text is returned cut, and says so.
"""
from __future__ import annotations

import io
import struct

from core.parsing.office import OfficeUnreadable

_W_IDENT = 0xA5EC           # FibBase.wIdent of a Word binary document
_F_ENCRYPTED = 0x0100
_F_WHICH_TABLE = 0x0200     # 1 → the table stream is "1Table", else "0Table"
_CCP_TEXT = 0x4C            # FibRgLw97.ccpText
_FC_CLX = 0x1A2             # FibRgFcLcb97.fcClx / lcbClx
_MAX_PIECES = 100_000       # a real document has a few hundred at most

# Characters with a structural meaning in the text stream ([MS-DOC] 2.4.1): what a reader sees.
_FIELD_BEGIN, _FIELD_SEP, _FIELD_END = "\x13", "\x14", "\x15"
_LAYOUT = str.maketrans({"\r": "\n", "\x0b": "\n", "\x0c": "\n", "\x07": "\t", "\x1e": "-",
                         "\x1f": "", "\xa0": " "})
_DROP = {chr(c) for c in range(0x20)} - {"\n", "\t"}


def is_word(data: bytes) -> bool:
    """Whether an OLE2 file holds a Word document (a ``WordDocument`` stream), not a workbook
    or another kind; False for anything olefile cannot open."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return bool(ole.exists("WordDocument"))
    except Exception:       # damaged: the caller's other readers say why
        return False


def doc_text(data: bytes, max_chars: int) -> tuple[str, bool]:
    """``(text, cut)``: the main text of a ``.doc``, at most ``max_chars`` characters.

    Raises OfficeUnreadable when the bytes are not a readable Word binary document (another OLE
    file such as a WPS or PowerPoint file, an encrypted document, a damaged container)."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if not ole.exists("WordDocument"):
                raise OfficeUnreadable("OLE file without a WordDocument stream (not a Word document)")
            word = ole.openstream("WordDocument").read()
            flags, ccp, fc_clx, lcb_clx = _fib(word)
            table_name = "1Table" if flags & _F_WHICH_TABLE else "0Table"
            if not ole.exists(table_name):
                raise OfficeUnreadable(f"Word document without its {table_name} stream")
            table = ole.openstream(table_name).read()
    except OfficeUnreadable:
        raise
    except Exception as e:      # olefile raises OSError, struct.error, IndexError … on a damaged file
        raise OfficeUnreadable(f"damaged OLE container: {type(e).__name__}") from None
    pieces = _pieces(table, fc_clx, lcb_clx)
    raw, cut = _main_text(word, pieces, ccp, max_chars)
    return _visible(raw), cut


def _fib(word: bytes) -> tuple[int, int, int, int]:
    if len(word) < _FC_CLX + 8:
        raise OfficeUnreadable("WordDocument stream too short for a FIB")
    ident, = struct.unpack_from("<H", word, 0)
    if ident != _W_IDENT:
        raise OfficeUnreadable("not a Word 97–2003 document (unknown FIB)")
    flags, = struct.unpack_from("<H", word, 0x0A)
    if flags & _F_ENCRYPTED:
        raise OfficeUnreadable("encrypted Word document")
    ccp, = struct.unpack_from("<i", word, _CCP_TEXT)
    fc_clx, lcb_clx = struct.unpack_from("<II", word, _FC_CLX)
    if ccp < 0:
        raise OfficeUnreadable("negative text length in the FIB")
    return flags, ccp, fc_clx, lcb_clx


def _pieces(table: bytes, fc_clx: int, lcb_clx: int) -> list[tuple[int, int, int, bool]]:
    """The piece table: (cp_start, cp_end, byte offset, compressed) per piece."""
    clx = table[fc_clx:fc_clx + lcb_clx]
    if len(clx) != lcb_clx or not clx:
        raise OfficeUnreadable("piece table outside the table stream")
    i = 0
    while i < len(clx) and clx[i] == 0x01:          # Prc: property modifiers, skipped
        if i + 3 > len(clx):
            raise OfficeUnreadable("truncated piece table")
        size, = struct.unpack_from("<h", clx, i + 1)
        if size < 0:
            raise OfficeUnreadable("malformed piece table")
        i += 3 + size
    if i + 5 > len(clx) or clx[i] != 0x02:
        raise OfficeUnreadable("no piece table (Pcdt) in the Clx")
    lcb, = struct.unpack_from("<I", clx, i + 1)
    plc = clx[i + 5:i + 5 + lcb]
    if len(plc) != lcb or lcb < 16 or (lcb - 4) % 12:
        raise OfficeUnreadable("malformed piece table (PlcPcd)")
    n = (lcb - 4) // 12
    if n > _MAX_PIECES:
        raise OfficeUnreadable("implausibly many pieces")
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    out = []
    for k in range(n):
        fc, = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * k + 2)
        compressed = bool(fc & 0x40000000)
        offset = (fc & 0x3FFFFFFF) // 2 if compressed else fc & 0x3FFFFFFF
        if cps[k + 1] < cps[k]:
            raise OfficeUnreadable("piece table out of order")
        out.append((cps[k], cps[k + 1], offset, compressed))
    return out


def _main_text(word: bytes, pieces: list[tuple[int, int, int, bool]], ccp: int,
               max_chars: int) -> tuple[str, bool]:
    """The first ``ccp`` characters (the main document), capped at ``max_chars``."""
    parts: list[str] = []
    want = min(ccp, max_chars)
    got = 0
    for start, end, offset, compressed in pieces:
        if got >= want or start >= ccp:
            break
        count = min(end, ccp) - start
        count = min(count, want - got)
        if count <= 0:
            continue
        width = 1 if compressed else 2
        chunk = word[offset:offset + count * width]
        if len(chunk) < count * width:
            raise OfficeUnreadable("a piece points past the end of the document stream")
        # cp1252 is [MS-DOC]'s 8-bit encoding; its five undefined bytes become U+FFFD, not an error
        parts.append(chunk.decode("cp1252", "replace") if compressed else chunk.decode("utf-16-le", "replace"))
        got += count
    return "".join(parts), ccp > max_chars


def _visible(raw: str) -> str:
    """What a reader sees: field codes dropped (their results kept), layout marks as newlines/tabs."""
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
    text = "".join(out).translate(_LAYOUT)
    return "".join(c for c in text if c not in _DROP)
