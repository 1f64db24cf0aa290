"""The stored documents of a site that checks reading wording share: pages and readable attachments.

Read once per snapshot (``privacy-leaks`` and ``wording-lexicon`` both use it) through
:mod:`core.parsing.doctext`. An attachment that cannot be read (a WPS file, damaged, encrypted,
refused as unsafe, not stored) is listed with the reason, and so is one read only in part (cut at a reading
limit, or a file that ends early): a check that finds nothing says what it could not read and that
it could not verify the rest (:meth:`Documents.unread`), never "clean".
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.parsing.doctext import DEFAULT_LIMITS, Document, Limits, Unreadable, read_document
from core.parsing.privacy import masked_window
from core.snapshot import SiteSnapshot
from core.store import FetchRow


@dataclass
class Readable:
    fetch: FetchRow
    url: str
    title: str                    # page title or the link text that named the attachment
    source_url: str | None        # the page that links an attachment
    attachment: bool
    doc: Document | None
    unreadable: str | None = None


    @property
    def gone(self) -> bool:
        """A download answered 404/410: nothing is published there, so nothing was left unread."""
        return not self.fetch.ok and self.fetch.status in (404, 410)


@dataclass
class Documents:
    items: list[Readable]
    skipped: int                  # stored pages/attachments over the caps: not read, so not judged

    def unread(self) -> list[Readable]:
        """Documents whose text was not read, or read only in part (``doc.cut``): what they hold
        is unknown, so a check finding nothing may not call the site clean."""
        return [r for r in self.items if (r.doc is None and not r.gone) or (r.doc is not None and r.doc.cut)]

    def unread_note(self, limit: int = 3) -> str:
        """The unread part in words for the report: counts, then the first few files and why."""
        unread = self.unread()
        parts = []
        cut = [r for r in unread if r.doc is not None]
        if len(unread) > len(cut):
            parts.append(f"{len(unread) - len(cut)} 个页面或附件无法读取")
        if cut:
            parts.append(f"{len(cut)} 个只读取了一部分")
        if self.skipped:
            parts.append(f"{self.skipped} 个超出核查上限未读取")
        examples = "；".join(f"{r.title}：{r.doc.cut if r.doc is not None else r.unreadable}"
                            for r in unread[:limit])
        return "、".join(parts) + (f"（{examples}{'等' if len(unread) > limit else ''}）" if examples else "")


# the reading limits as check parameters (each check's defaults spread these; rules.toml may set them)
LIMIT_PARAMS: dict[str, int] = dataclasses.asdict(DEFAULT_LIMITS)


def limits_of(params: Mapping[str, Any]) -> Limits:
    """The per-document reading limits a check's rules.toml table gives (defaults for those it omits)."""
    return Limits(**{k: int(params.get(k, getattr(DEFAULT_LIMITS, k))) for k in DEFAULT_LIMITS.__dataclass_fields__})


def readable_documents(snap: SiteSnapshot, max_pages: int, max_attachments: int,
                       limits: Limits = DEFAULT_LIMITS) -> Documents:
    """Stored pages (canonical order) and attachments (by URL), each within its own cap, so a big
    site's pages never crowd out its attachments — where 公示 lists are usually published; each
    document read within ``limits`` (rules.toml), its ``doc.cut`` saying when it was not read whole."""
    return snap.derived(_read_all, int(max_pages), int(max_attachments), limits)


def _read_all(snap: SiteSnapshot, max_pages: int, max_attachments: int, limits: Limits) -> Documents:
    anchors: dict[str, tuple[str, str]] = {}
    for ln in snap.links():
        if ln.anchor and ln.target_url not in anchors:
            anchors[ln.target_url.split("#")[0]] = (ln.anchor.strip(), ln.source_url)
    out: list[Readable] = []
    pages = [p for p in snap.pages() if "json" not in (p.content_type or "").lower()]
    atts = sorted(snap.fetches("attachment"), key=lambda f: f.url)
    skipped = max(0, len(pages) - max_pages) + max(0, len(atts) - max_attachments)
    for f in pages[:max_pages] + atts[:max_attachments]:
        url = f.final_url or f.url
        is_att = f.purpose == "attachment"
        anchor, linked_from = anchors.get(f.url, anchors.get(url, ("", None)))  # type: ignore[arg-type]
        title = (f.title or anchor or url) if not is_att else (anchor or url.rsplit("/", 1)[-1])
        source = (f.parent_url or linked_from) if is_att else url
        # a title or link text may itself hold a number: findings quote it, so it is masked here
        r = Readable(f, url, masked_window(title, 0, 120), source, is_att, None)
        if not f.ok:
            if is_att:
                r.unreadable = f"下载失败（{f.error_kind or f.status}）"
                out.append(r)
            continue
        r.doc, r.unreadable = read_stored(snap, f, limits)
        out.append(r)
    return Documents(out, skipped)


def read_stored(snap: SiteSnapshot, f: FetchRow, limits: Limits = DEFAULT_LIMITS) -> tuple[Document | None, str | None]:
    """One stored page or attachment as lines — ``(doc, None)``, or ``(None, why it could not be read)``
    — read once per snapshot and body, whichever check asks first (the disclosure checks reading a
    budget attachment share it with ``privacy-leaks``'s reading)."""
    if not f.body_hash:
        return None, "内容未保存（文件过大或仅检查了链接）"
    return snap.derived(_read_body, f.body_hash, f.final_url or f.url, f.content_type, f.encoding, limits)


def _read_body(snap: SiteSnapshot, body_hash: str, url: str, content_type: str | None, encoding: str | None,
               limits: Limits) -> tuple[Document | None, str | None]:
    snap.lookups["body"] += 1             # counted like SiteSnapshot.body (the judge-scaling test reads it)
    body = snap.run.store.body(body_hash)
    if not body:
        return None, "内容未保存（文件过大或仅检查了链接）"
    try:
        return read_document(body, url, content_type, encoding, limits), None
    except Unreadable as e:
        return None, str(e)
    except RecursionError:
        return None, "文件结构过深，无法读取"
    except Exception as e:  # a hostile file a parser did not foresee: this document only, not the check
        return None, f"无法读取（{type(e).__name__}）"
