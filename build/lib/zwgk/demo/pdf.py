"""A minimal hand-written PDF whose Chinese text layer pypdf (and pdftotext) can extract.

Text is drawn with the standard CJK font STSong-Light (Adobe-GB1, not embedded) through the
predefined UniGB-UCS2-H CMap, so string bytes are plain UTF-16BE code units; a ToUnicode CMap
mapping every code to itself tells extractors what the codes mean. No third-party PDF writer
is needed, and the file is a few KB.
"""

from __future__ import annotations

_TOUNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end"""

_LINES_PER_PAGE = 52


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _text_ops(lines: list[str]) -> bytes:
    ops = ["BT", "/F1 11 Tf", "15 TL", "50 790 Td"]
    for line in lines:
        ops.append(f"<{line.encode('utf-16-be').hex().upper()}> Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("ascii")


def make_pdf(lines: list[str], title: str = "") -> bytes:
    """PDF 1.4 with `lines` of text, paginated; A4 pages."""
    pages = [lines[i:i + _LINES_PER_PAGE] for i in range(0, len(lines), _LINES_PER_PAGE)] or [[]]
    font, descendant, tounicode, descriptor = 3, 4, 5, 6
    first_page = 7
    objs: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
            b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(len(pages))), len(pages)),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (descendant, tounicode),
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo "
        b"<< /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor %d 0 R /DW 1000 >>" % descriptor,
        _stream(_TOUNICODE),
        (b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
         b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"),
    ]
    for i, chunk in enumerate(pages):
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font "
                    b"<< /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, first_page + 2 * i + 1))
        objs.append(_stream(_text_ops(chunk)))
    info = len(objs) + 1
    objs.append(b"<< /Title <FEFF%s> /Producer (zwgk demo) >>" % title.encode("utf-16-be").hex().upper().encode())
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % num + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, info, xref)
    return bytes(out)
