"""Parsing an untrusted HTML document once, the same way everywhere."""
from __future__ import annotations

import re

import lxml.etree
import lxml.html


def closed_prefix(text: str, close: re.Pattern[str]) -> str:
    """``text`` up to the end of the last match of ``close`` ("" when none).

    A pattern whose lazy ``.*?`` scans for ``close`` (``<datastore\b.*?</datastore>``) cannot match
    past that end, so searching the prefix finds the same matches — but an opening with no close
    after it no longer scans to the end of the text, once per opening: on a hostile page that is
    quadratic (8,000 unclosed ``<script><datastore>`` in a 156 KB page took 20 s; a 5 MB page, hours).
    Before the last close every opening finds a close, so each scan ends inside its own match. Only for
    a ``close`` whose matches cannot overlap (an href value may hold another "href=": not such a close)."""
    end = 0
    for m in close.finditer(text):
        end = m.end()
    return text[:end]


SCRIPT_END = re.compile(r"</script>", re.IGNORECASE)     # the close of ``<script\b[^>]*>(.*?)</script>``


def has_mustache(text: str) -> bool:
    r"""A ``{{`` with a ``}}`` after it: what ``re.search(r"\{\{.*?\}\}", text, re.DOTALL)`` answers, in
    linear time (the regex scans from every ``{{`` to the end of a text that has no ``}}``)."""
    i = text.find("{{")
    return i >= 0 and text.find("}}", i + 2) >= 0


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
