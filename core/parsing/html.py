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
        return lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None
