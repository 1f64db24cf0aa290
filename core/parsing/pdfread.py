"""Text of a PDF, page by page, through pypdf — quietly, with a damaged file recorded as data. Pure.

pypdf reports damage it works around (a truncated file's missing ``%%EOF``, a broken xref) as
``logging`` warnings; with no handler configured Python prints each one to stderr, which on a
20 000-page judge was hundreds of "EOF marker not found" lines that nobody could tie to a file.
Those warnings are switched off here (pypdf's and pdfminer's errors still log); what they said is
found from the file itself instead: :attr:`PdfText.truncated` (no ``%%EOF`` near its end — content
after the cut may be missing) or :class:`PdfUnreadable` with the reason, and the caller says
无法核验 for that file.

Both PDF readers use this: :mod:`core.parsing.doctext` (wording, personal-data and debt checks)
and :func:`core.parsing.annual_report.pdf_text`.
"""
from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

for _name in ("pypdf", "pdfminer"):   # pdfminer: under pdfplumber (annual reports' table grids)
    logging.getLogger(_name).setLevel(logging.ERROR)

_EOF_WINDOW = 1024      # pypdf looks for %%EOF in the last KB too


class PdfUnreadable(Exception):
    """The PDF could not be opened, decrypted or read — could not verify."""


@contextmanager
def quiet() -> Iterator[None]:
    """The PDF libraries' ``warnings`` (sloppy but readable files) silenced inside the block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def ends_early(data: bytes) -> bool:
    """No ``%%EOF`` marker near the end: the file was cut (a partial download or upload)."""
    return b"%%EOF" not in data[-_EOF_WINDOW:]


@dataclass
class PdfText:
    pages: list[str]                 # text of the pages read, in order ('' for an image-only page)
    total: int                       # pages in the file
    truncated: bool = False          # the file ends early: content after the cut may be missing


def read_pdf(data: bytes, max_lines: int | None = None) -> PdfText:
    """Text of every page, or of the pages before ``max_lines`` non-blank lines were reached (then ``len(pages) < total``: the caller knows the rest was not read).
    Raises :class:`PdfUnreadable` (damaged beyond reading, encrypted) with a short reason
    (已加密, 文件不完整, the error's name)."""
    import pypdf
    from pypdf.errors import PyPdfError

    with quiet():
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise PdfUnreadable("已加密")
            total = len(reader.pages)
            pages: list[str] = []
            lines = 0
            for page in reader.pages:
                if max_lines is not None and lines >= max_lines:
                    break          # a page not extracted is a page not paid for
                text = page.extract_text() or ""
                lines += sum(1 for ln in text.splitlines() if ln.strip())
                pages.append(text)
        except PdfUnreadable:
            raise
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError,
                RecursionError, NotImplementedError) as e:
            raise PdfUnreadable("文件不完整，结尾缺失" if ends_early(data) else type(e).__name__) from e
    return PdfText(pages, total, ends_early(data))
