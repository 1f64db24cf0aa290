"""A truncated PDF is recorded as unreadable by the attachment reader, not announced on stderr by pypdf."""
from __future__ import annotations

import io
import logging

import pypdf
import pytest

from core.parsing.annual_report import PdfUnreadable, pdf_text
from core.parsing.doctext import Unreadable, read_document


def _truncated_pdf() -> bytes:
    w = pypdf.PdfWriter()
    w.add_blank_page(100, 100)
    out = io.BytesIO()
    w.write(out)
    data = out.getvalue()
    return data[: len(data) // 2]       # no %%EOF, no xref: pypdf warns "EOF marker not found", then fails


def test_truncated_pdf_is_unreadable_without_console_noise(caplog: pytest.LogCaptureFixture) -> None:
    """Without logging configured, every warning record pypdf emits is printed to stderr by Python's
    last-resort handler: none may be emitted (caplog sees what any handler would)."""
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(Unreadable, match="PDF无法读取"):
            read_document(_truncated_pdf(), "http://a.gov.cn/x.pdf", "application/pdf")
        with pytest.raises(PdfUnreadable):
            pdf_text(_truncated_pdf())
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pypdf")] == []


def test_pypdf_errors_still_log(caplog: pytest.LogCaptureFixture) -> None:
    """Only pypdf's warnings are quiet: an error it logs still reaches the handlers."""
    with caplog.at_level(logging.WARNING):
        logging.getLogger("pypdf._reader").error("real trouble")
        logging.getLogger("pypdf._reader").warning("EOF marker not found")
    assert [r.getMessage() for r in caplog.records] == ["real trouble"]
