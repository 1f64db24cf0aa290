"""Parsing an untrusted HTML document once, the same way everywhere."""
from __future__ import annotations

import lxml.etree
import lxml.html


def document(html: str | bytes) -> lxml.html.HtmlElement | None:
    """The parsed document, or None when there is nothing to read: empty or whitespace-only text
    (lxml raises ParserError), or text lxml refuses (ValueError, e.g. a str that declares an
    encoding). Callers turn None into their own "nothing found"."""
    if not html or not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)     # lxml's shared parser: no error log kept
    except (ValueError, lxml.etree.ParserError):
        return None


def document_read(html: str | bytes) -> tuple[lxml.html.HtmlElement | None, bool]:
    """:func:`document`, and whether libxml2 stopped at its nesting limit (256 elements deep) and
    silently dropped the rest of the page — a reader of the text must then say it read only part."""
    if not html or not html.strip():
        return None, False
    parser = lxml.html.HTMLParser()
    try:
        doc = lxml.html.document_fromstring(html, parser=parser)
    except (ValueError, lxml.etree.ParserError):
        return None, False
    return doc, any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)
