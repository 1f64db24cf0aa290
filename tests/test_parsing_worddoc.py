"""Binary Word 97–2003 documents (core/parsing/worddoc.py).

The ``.doc`` files in tests/fixtures/worddoc/ were written by LibreOffice's Word 97 export
(make_docs.sh): real files from a real word processor. The 8-bit ("compressed") piece encoding,
which LibreOffice never writes, is made here by rewriting one of them in place with olefile.
"""
from __future__ import annotations

import io
import random
import struct
from pathlib import Path

import olefile
import pytest

from core.parsing import worddoc
from core.parsing.office import OfficeUnreadable

FIX = Path(__file__).parent / "fixtures" / "worddoc"


def _doc(name: str) -> bytes:
    return (FIX / f"{name}.doc").read_bytes()


def test_reads_chinese_text_and_tables():
    text, cut = worddoc.doc_text(_doc("leak"), 100_000)
    assert not cut
    assert text.startswith("2025年度低保对象公示名单\n")
    lines = text.split("\n")
    # each table row is a line of its own, its cells separated by CELL (the row-end mark found in
    # the paragraph properties, not guessed)
    assert [ln.split(worddoc.CELL)[:3] for ln in lines if worddoc.CELL in ln] == [
        ["姓名", "身份证号码", "地址"], ["张三", "441521198001011237", "红海湾田墘街道"]]
    assert "English text and 中文 mixed, 联系电话 13800138000。" in lines


def test_rows_are_lines_for_the_checks():
    from core.parsing.doctext import read_document

    doc = read_document(_doc("leak"), "gs/leak.doc")
    rows = [ln for ln in doc.lines if ln.locator.startswith("表格")]
    assert [r.text for r in rows] == ["姓名 | 身份证号码 | 地址", "张三 | 441521198001011237 | 红海湾田墘街道"]
    assert rows[1].header == "姓名 | 身份证号码 | 地址" and rows[1].locator == "表格1第2行"


def test_field_codes_are_dropped_and_their_result_kept():
    text, _ = worddoc.doc_text(_doc("form"), 100_000)
    assert "获取信息的方式：网上申请 邮寄" in text
    assert "HYPERLINK" not in text and "example.gov.cn" not in text


def test_cut_at_max_chars_says_so():
    data = _doc("long")
    full, cut = worddoc.doc_text(data, 1_000_000)
    assert not cut and full.rstrip().endswith("身份证号码 441521199002023453。")
    part, cut = worddoc.doc_text(data, 5_000)
    assert cut and len(part) <= 5_000
    assert "441521199002023453" not in part       # the decisive line lies beyond the cap
    assert full.startswith(part)


def _rewrite(data: bytes, stream: str, edit) -> bytes:
    """A copy of an OLE file with one stream edited in place (same size: olefile's write_stream)."""
    buf = io.BytesIO(data)
    with olefile.OleFileIO(buf, write_mode=True) as ole:
        raw = bytearray(ole.openstream(stream).read())
        edit(raw)
        ole.write_stream(stream, bytes(raw))
    return buf.getvalue()


def _table_name(data: bytes) -> str:
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        flags, = struct.unpack_from("<H", ole.openstream("WordDocument").read(), 0x0A)
    return "1Table" if flags & 0x0200 else "0Table"


def test_compressed_pieces_are_cp1252():
    data = _doc("ascii")
    text, _ = worddoc.doc_text(data, 1000)
    assert "Café prices: 5 euro €." in text
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        word = ole.openstream("WordDocument").read()
    _, ccp, fc_clx, lcb_clx = worddoc._fib(word)
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        table = ole.openstream(_table_name(data)).read()
    [(start, end, offset, compressed)] = worddoc._pieces(table, fc_clx, lcb_clx, ccp)
    assert not compressed
    raw = word[offset:offset + 2 * (end - start)].decode("utf-16-le")

    def as_8bit(w: bytearray) -> None:
        eight = raw.encode("cp1252")
        w[offset:offset + len(eight)] = eight

    def mark_compressed(t: bytearray) -> None:
        clx = t[fc_clx:fc_clx + lcb_clx]
        i = clx.index(b"\x02")                          # the Pcdt (LibreOffice writes no Prc)
        n = (struct.unpack_from("<I", clx, i + 1)[0] - 4) // 12
        pos = fc_clx + i + 5 + 4 * (n + 1) + 2
        struct.pack_into("<I", t, pos, (offset * 2) | 0x40000000)

    packed = _rewrite(_rewrite(data, "WordDocument", as_8bit), _table_name(data), mark_compressed)
    assert worddoc.doc_text(packed, 1000)[0] == text


def test_encrypted_document_is_unreadable_not_empty():
    def encrypt(w: bytearray) -> None:
        w[0x0A] |= 0x01                                 # FibBase.fEncrypted (0x0100, high byte)
        w[0x0B] |= 0x01

    with pytest.raises(OfficeUnreadable, match="已加密"):
        worddoc.doc_text(_rewrite(_doc("form"), "WordDocument", encrypt), 1000)


@pytest.mark.parametrize("data, why", [
    (bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504, "OLE容器损坏"),     # an OLE signature and nothing
    ((Path(__file__).parent / "fixtures" / "privacy" / "dibao.xls").read_bytes(), "WordDocument"),
    (b"", "OLE容器损坏"),
])
def test_not_a_word_document(data: bytes, why: str):
    with pytest.raises(OfficeUnreadable, match=why):
        worddoc.doc_text(data, 1000)


def test_hostile_bytes_raise_only_unreadable():
    """Random damage to a real file: a text, or OfficeUnreadable — never another exception."""
    base = _doc("leak")
    rng = random.Random(7)
    outcomes = {"text": 0, "unreadable": 0}
    for i in range(600):
        b = bytearray(base)
        for _ in range(rng.randint(1, 30)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        if i % 5 == 0:
            b = b[:rng.randrange(len(b))]
        try:
            text, _ = worddoc.doc_text(bytes(b), 10_000)
            assert len(text) <= 10_000
            outcomes["text"] += 1
        except OfficeUnreadable:
            outcomes["unreadable"] += 1
    assert outcomes["text"] and outcomes["unreadable"]     # both paths were really exercised


# -- read by the checks like any attachment ---------------------------------------------------------
def _snap(name: str, body: bytes):
    from testkit.snapshots import Page, make_snapshot, site_config

    base = "http://www.hhw.gov.cn/"
    return make_snapshot({base: f'<html><body><p>首页</p><a href="{base}gs/{name}">附件</a></body></html>',
                          base + f"gs/{name}": Page(body, purpose="attachment", content_type="application/msword",
                                                    parent_url=base)},
                         site=site_config("portal", base), as_of="2026-11-27T09:00:00+08:00")


def test_personal_data_in_a_doc_is_found():
    from checks import privacy
    from core.model import Outcome

    res = privacy.judge(_snap("gsmd.doc", _doc("leak")), privacy.DEFAULTS)
    assert res.outcome == Outcome.MANUAL
    assert res.findings[0].message_id == "privacy-leaks.id"


def test_a_blank_application_form_doc_is_read_and_clean():
    """The demo's 申请表: read whole, so the check may give its clean bill (not 无法核验)."""
    from checks import privacy, wording
    from core.model import Outcome

    form = (Path(__file__).parents[1] / "zwgk" / "demo" / "sqb.doc").read_bytes()
    res = privacy.judge(_snap("sqb.doc", form), privacy.DEFAULTS)
    assert res.outcome == Outcome.PASS and res.message_id == "privacy-leaks.none"
    assert res.metrics["attachments_read"] == 1
    assert wording.judge(_snap("sqb.doc", form), wording.DEFAULTS).outcome == Outcome.PASS


def test_a_doc_cut_at_the_line_limit_is_could_not_verify():
    from checks import privacy
    from core.model import Outcome

    snap = _snap("long.doc", _doc("long"))
    assert privacy.judge(snap, privacy.DEFAULTS).findings[0].message_id == "privacy-leaks.id"
    cut = privacy.judge(snap, {**privacy.DEFAULTS, "max_lines": 100})
    assert cut.outcome == Outcome.ERROR and cut.message_id == "privacy-leaks.partial"


def _entry_pos(data: bytes, ole, name: str) -> tuple[int, int]:
    """(file offset of ``name``'s directory entry, its first sector)."""
    ss = ole.sectorsize
    sid = [e.name if e else None for e in ole.direntries].index(name)
    chain = [struct.unpack_from("<I", data, 0x30)[0]]
    while ole.fat[chain[-1]] != olefile.ENDOFCHAIN:
        chain.append(ole.fat[chain[-1]])
    per = ss // 128
    pos = (chain[sid // per] + 1) * ss + 128 * (sid % per)
    return pos, struct.unpack_from("<I", data, pos + 0x74)[0]


def _looping(src: bytes, name: str, declared: int) -> bytes:
    """A copy whose stream ``name`` declares ``declared`` bytes and whose sector chain loops back to
    its start: a naive reader follows it until it has read that much."""
    data = bytearray(src)
    ole = olefile.OleFileIO(io.BytesIO(src))
    pos, start = _entry_pos(src, ole, name)
    s = start
    while ole.fat[s] != olefile.ENDOFCHAIN:
        s = ole.fat[s]
    ss = ole.sectorsize
    fat_sector = struct.unpack_from("<109I", src, 0x4C)[s // (ss // 4)]
    struct.pack_into("<I", data, (fat_sector + 1) * ss + 4 * (s % (ss // 4)), start)
    struct.pack_into("<I", data, pos + 0x78, declared)
    return bytes(data)


def test_a_looping_sector_chain_is_unreadable_without_reading_it():
    import tracemalloc

    data = _looping(_doc("long"), "WordDocument", 200_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(OfficeUnreadable):
            worddoc.doc_text(data, 1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(data)             # not the 200 MB the stream declares


def _with_pieces_cp_end(data: bytes, new_end: int) -> bytes:
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        word = ole.openstream("WordDocument").read()
    _, _, fc_clx, lcb_clx = worddoc._fib(word)

    def shorten(t: bytearray) -> None:
        clx = t[fc_clx:fc_clx + lcb_clx]
        i = clx.index(b"\x02")
        n = (struct.unpack_from("<I", clx, i + 1)[0] - 4) // 12
        struct.pack_into("<I", t, fc_clx + i + 5 + 4 * n, new_end)

    return _rewrite(data, _table_name(data), shorten)


def test_pieces_that_do_not_cover_the_text_are_unreadable_not_a_shorter_text():
    with pytest.raises(OfficeUnreadable, match="片段表未覆盖"):
        worddoc.doc_text(_with_pieces_cp_end(_doc("leak"), 20), 100_000)


def test_an_unclosed_field_code_is_unreadable_not_hidden_text():
    assert worddoc._visible("公示\r\x13 HYPERLINK x \x14链接\x15 张三\r", False) == "公示\n链接 张三\n"
    with pytest.raises(OfficeUnreadable, match="域代码未闭合"):
        worddoc._visible("公示\r\x13 HYPERLINK x 张三 441521198001011237\r", False)
    # cut at max_chars inside a field: the text says it is cut, which is already partial
    assert worddoc._visible("公示\r\x13 HYPERLINK x", True) == "公示\n"


def test_an_encrypted_doc_makes_privacy_could_not_verify():
    from checks import privacy
    from core.model import Outcome

    def encrypt(w: bytearray) -> None:
        w[0x0B] |= 0x01

    res = privacy.judge(_snap("gsmd.doc", _rewrite(_doc("leak"), "WordDocument", encrypt)), privacy.DEFAULTS)
    assert res.outcome == Outcome.ERROR and res.message_id == "privacy-leaks.partial"
    assert "gsmd.doc：DOC无法读取（已加密）" in res.params["unread"]


def test_word_95_is_refused_by_its_fib():
    def old(w: bytearray) -> None:
        struct.pack_into("<H", w, 2, 0x65)     # nFib of Word 6/95

    with pytest.raises(OfficeUnreadable, match="Word 6/95"):
        worddoc.doc_text(_rewrite(_doc("form"), "WordDocument", old), 1000)
