"""Text of a PDF, page by page, through pypdf — quietly, with what went wrong kept as data. Pure.

pypdf reports damage it works around (a truncated file's missing ``%%EOF``, a broken xref) through
the ``logging`` module; with no handler configured Python prints each one to stderr, which on a
20 000-page judge was hundreds of "EOF marker not found" lines that nobody could tie to a file.
Here those messages are collected for the file being read (:attr:`PdfText.notes`) and never
printed: a reader records the file as unreadable or damaged instead (the caller says 无法核验).

Both PDF readers use this: :mod:`core.parsing.doctext` (wording and personal-data checks) and
:func:`core.parsing.annual_report.pdf_text`.
"""
from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

# pypdf's complaints about the file being read; None outside a read
_notes: ContextVar[list[str] | None] = ContextVar("pdf_notes", default=None)
_MAX_NOTES = 20
# damage that means the file ends early: what follows the cut was never read
_TRUNCATED = ("EOF marker not found", "EOF marker seems truncated", "might be truncated",
              "Stream has ended unexpectedly")


class PdfUnreadable(Exception):
    """The PDF could not be opened, decrypted or read — could not verify."""


class _Collect(logging.Handler):
    """Keeps pypdf's (and pdfminer's) warnings for the file being read; drops them otherwise."""

    def emit(self, record: logging.LogRecord) -> None:
        notes = _notes.get()
        if notes is not None and len(notes) < _MAX_NOTES:
            notes.append(record.getMessage()[:200])


def _quiet(name: str) -> None:
    log = logging.getLogger(name)
    if not any(isinstance(h, _Collect) for h in log.handlers):
        log.addHandler(_Collect(logging.WARNING))
        log.propagate = False       # never to stderr (the last-resort handler) nor the app's root log


for _name in ("pypdf", "pdfminer"):   # pdfminer: under pdfplumber (annual reports' table grids)
    _quiet(_name)


@contextmanager
def collecting() -> Iterator[list[str]]:
    """The PDF libraries' warnings raised inside the block, as a list (also silences ``warnings``)."""
    notes: list[str] = []
    token = _notes.set(notes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield notes
    finally:
        _notes.reset(token)


@dataclass
class PdfText:
    pages: list[str]                 # text of the pages read, in order ('' for an image-only page)
    total: int                       # pages in the file
    notes: list[str] = field(default_factory=list)   # what pypdf worked around

    @property
    def truncated(self) -> bool:
        """The file ends early (no ``%%EOF``): content after the cut may be missing."""
        return any(t in n for n in self.notes for t in _TRUNCATED)


def read_pdf(data: bytes, max_chars: int | None = None, max_lines: int | None = None) -> PdfText:
    """Text of every page, or of the pages before ``max_chars`` characters or ``max_lines`` non-blank
    lines were reached (then ``len(pages) < total``: the caller knows the rest was not read). Raises :class:`PdfUnreadable`
    (damaged beyond reading, encrypted) with a short reason (已加密, 文件不完整, the error's name)."""
    import pypdf
    from pypdf.errors import PyPdfError

    with collecting() as notes:
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise PdfUnreadable("已加密")
            total = len(reader.pages)
            pages: list[str] = []
            chars = lines = 0
            for page in reader.pages:
                if (max_chars is not None and chars >= max_chars) or (max_lines is not None and lines >= max_lines):
                    break          # a page not extracted is a page not paid for
                text = page.extract_text() or ""
                chars += len(text)
                lines += sum(1 for ln in text.splitlines() if ln.strip())
                pages.append(text)
        except PdfUnreadable:
            raise
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError,
                RecursionError, NotImplementedError) as e:
            truncated = any(t in n for n in [*notes, str(e)] for t in _TRUNCATED)
            raise PdfUnreadable("文件不完整，结尾缺失" if truncated else type(e).__name__) from e
    return PdfText(pages, total, notes)
