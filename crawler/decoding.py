"""Body → text, in a written order, recording which rule decided (DESIGN.md "The crawler").

Order: site override → HTTP ``charset`` → BOM → ``<meta charset>`` / ``http-equiv`` →
detection (strict UTF-8, then GB18030) → default (UTF-8 with replacement).
A page *labelled* UTF-8 (HTTP or meta) whose bytes are not UTF-8 but read cleanly as GB18030 is
a mislabelled GBK page — common when a CMS template is UTF-8 and the content is not: it is
decoded as GB18030 and the rule says ``mismatch`` so the report can name it.
GBK, GB2312, CP936 and their aliases are read as **GB18030**, a strict superset, because
old ASP/JSP government sites (docs/DOMAIN.md §9) label GBK pages "gb2312" and use characters
outside it. An HTTP ``charset=iso-8859-1`` is Tomcat's and IIS's default, not a statement
about a Chinese page: it is treated as absent so the page's own ``<meta>`` decides.
"""
from __future__ import annotations

import codecs
import re

_GB = {"gb2312", "gbk", "gb_2312-80", "gb_2312", "x-gbk", "cp936", "ms936", "windows-936",
       "euc-cn", "csgb2312", "iso-ir-58", "chinese", "gb18030"}
_WEAK_HTTP = {"iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "iso8859-1"}
_META = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]{2,40})""", re.IGNORECASE)
_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def canonical(label: str | None) -> str | None:
    """Python codec name for a charset label, GBK family → gb18030; None if unknown."""
    if not label:
        return None
    lab = label.strip().strip("\"'").lower()
    if lab in _GB:
        return "gb18030"
    try:
        name = codecs.lookup(lab).name
    except LookupError:
        return None
    return "gb18030" if name in ("gbk", "gb2312") else name


def http_charset(content_type: str | None) -> str | None:
    m = _CT_CHARSET.search(content_type or "")
    return m.group(1) if m else None


def decode(body: bytes, content_type: str | None = None,
           override: str | None = None) -> tuple[str, str, str]:
    """(text, encoding, rule) with rule in override | http | bom | meta | mismatch | detect | default."""
    enc = canonical(override)
    if enc:
        return body.decode(enc, errors="replace"), enc, "override"
    label = http_charset(content_type)
    enc = canonical(label)
    if enc and (label or "").strip().lower() not in _WEAK_HTTP:
        if _mislabelled_gb(body, enc):
            return body.decode("gb18030"), "gb18030", "mismatch"
        return _strip_bom(body, enc).decode(enc, errors="replace"), enc, "http"
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, errors="replace"), name, "bom"
    m = _META.search(body, 0, 8192)
    if m:
        enc = canonical(m.group(1).decode("ascii", "ignore"))
        if enc and enc not in ("utf-16", "utf-16-le", "utf-16-be"):  # an ASCII-readable meta cannot be UTF-16
            if _mislabelled_gb(body, enc):
                return body.decode("gb18030"), "gb18030", "mismatch"
            return body.decode(enc, errors="replace"), enc, "meta"
    try:
        return body.decode("utf-8"), "utf-8", "detect"
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("gb18030"), "gb18030", "detect"
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace"), "utf-8", "default"


def _mislabelled_gb(body: bytes, enc: str) -> bool:
    """Labelled UTF-8, many invalid sequences, and a clean GB18030 reading: a GBK page."""
    if enc != "utf-8":
        return False
    try:
        body.decode("utf-8")
        return False
    except UnicodeDecodeError:
        pass
    bad = body.decode("utf-8", errors="replace").count("\ufffd")
    if bad < max(8, len(body) // 200):   # a few broken bytes in a UTF-8 page: keep UTF-8
        return False
    try:
        body.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True


def _strip_bom(body: bytes, enc: str) -> bytes:
    return body[3:] if enc == "utf-8" and body.startswith(codecs.BOM_UTF8) else body
