"""The stored documents of a site that checks reading wording share: pages and readable attachments.

Read once per snapshot (``privacy-leaks`` and ``wording-lexicon`` both use it) through
:mod:`core.parsing.doctext`. An attachment that cannot be read (a WPS file, damaged, encrypted,
refused as unsafe, not stored) is listed with the reason, and so is one read only in part (cut at a reading
limit, or a file that ends early): a check that finds nothing says what it could not read and that
it could not verify the rest (:meth:`Documents.unread`), never "clean".

A large portal is read whole (rules.toml's ``max_pages`` is sized for one of 20,000 pages and more), so
its pages' lines are never all held at once: each check that reads wording registers a *scan*
(:func:`register_scan`: the candidates it looks for in one document's lines), every registered scan
runs on a document as soon as it is read, and only their results are kept. A body stored under
several URLs (``/``, ``/index.html``, a print view) is read and scanned once; each URL keeps its own
result, so a finding still names every page that shows it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    read: bool = False            # its text was read: whole, or up to ``cut``
    cut: str | None = None        # why only part of it was read (for the report); None: read whole
    unreadable: str | None = None
    scans: dict[str, Any] = field(default_factory=dict)   # each registered scan's result on its lines

    def scan(self, name: str) -> Any:
        """The result of the scan registered as ``name`` on this document (read documents only);
        a scan that raised on it raises again here, in its own check only."""
        got = self.scans[name]
        if isinstance(got, _ScanFailed):
            raise got.error
        return got

    @property
    def gone(self) -> bool:
        """A download answered 404/410: nothing is published there, so nothing was left unread."""
        return not self.fetch.ok and self.fetch.status in (404, 410)


@dataclass
class Documents:
    items: list[Readable]
    skipped: int                  # stored pages/attachments over the caps: not read, so not judged

    def unread(self) -> list[Readable]:
        """Documents whose text was not read, or read only in part (``cut``): what they hold
        is unknown, so a check finding nothing may not call the site clean."""
        return [r for r in self.items if (not r.read and not r.gone) or (r.read and r.cut)]

    def unread_note(self, limit: int = 3) -> str:
        """The unread part in words for the report: counts, then the first few files and why."""
        unread = self.unread()
        parts = []
        cut = [r for r in unread if r.read]
        if len(unread) > len(cut):
            parts.append(f"{len(unread) - len(cut)} 个页面或附件无法读取")
        if cut:
            parts.append(f"{len(cut)} 个只读取了一部分")
        if self.skipped:
            parts.append(f"{self.skipped} 个超出核查上限未读取")
        examples = "；".join(f"{r.title}：{r.cut if r.read else r.unreadable}" for r in unread[:limit])
        return "、".join(parts) + (f"（{examples}{'等' if len(unread) > limit else ''}）" if examples else "")


# the reading limits as check parameters (each check's defaults spread these; rules.toml may set them)
LIMIT_PARAMS: dict[str, int] = dataclasses.asdict(DEFAULT_LIMITS)

# A scan: what one check looks for in one document's lines, given the document's Readable (its title
# and URL), returning the little it keeps (its candidates). Built once per snapshot by its check's
# builder (which may read the snapshot: the date, the audit's lexicon); a builder that raises leaves
# its check without results, and that check says why itself.
Scan = Callable[[Readable, Document], Any]


@dataclass(frozen=True)
class _ScanFailed:
    error: Exception


_SCANS: dict[str, Callable[[SiteSnapshot], Scan]] = {}


def register_scan(name: str, build: Callable[[SiteSnapshot], Scan]) -> None:
    """Run ``build(snap)``'s scan on every document of the shared reading; its results are
    ``Readable.scans[name]`` (a check registers its scan when its module is imported)."""
    _SCANS[name] = build


def limits_of(params: Mapping[str, Any]) -> Limits:
    """The per-document reading limits a check's rules.toml table gives (defaults for those it omits)."""
    return Limits(**{k: int(params.get(k, getattr(DEFAULT_LIMITS, k))) for k in DEFAULT_LIMITS.__dataclass_fields__})


def readable_documents(snap: SiteSnapshot, max_pages: int, max_attachments: int,
                       limits: Limits = DEFAULT_LIMITS) -> Documents:
    """Stored pages (canonical order) and attachments (by URL), each within its own cap, so a big
    site's pages never crowd out its attachments — where 公示 lists are usually published; each
    document read within ``limits`` (rules.toml), its ``cut`` saying when it was not read whole,
    and scanned by every registered scan."""
    return snap.derived(_read_all, int(max_pages), int(max_attachments), limits, tuple(sorted(_SCANS)))


def _read_all(snap: SiteSnapshot, max_pages: int, max_attachments: int, limits: Limits,
              scan_names: tuple[str, ...]) -> Documents:
    scans: dict[str, Scan] = {}
    for name in scan_names:
        try:
            scans[name] = _SCANS[name](snap)
        except Exception:       # (the audit's lexicon is broken): that check reports it, the others read on
            continue
    anchors: dict[str, tuple[str, str]] = {}
    for ln in snap.links():
        if ln.anchor and ln.target_url not in anchors:
            anchors[ln.target_url.split("#")[0]] = (ln.anchor.strip(), ln.source_url)
    out: list[Readable] = []
    pages = [p for p in snap.pages() if "json" not in (p.content_type or "").lower()]
    atts = sorted(snap.fetches("attachment"), key=lambda f: f.url)
    skipped = max(0, len(pages) - max_pages) + max(0, len(atts) - max_attachments)
    # one body under several URLs with the same title: read and scanned once (a scan reads the title)
    done: dict[tuple[Any, ...], tuple[bool, str | None, str | None, dict[str, Any]]] = {}
    for f in pages[:max_pages] + atts[:max_attachments]:
        url = f.final_url or f.url
        is_att = f.purpose == "attachment"
        anchor, linked_from = anchors.get(f.url, anchors.get(url, ("", None)))  # type: ignore[arg-type]
        title = (f.title or anchor or url) if not is_att else (anchor or url.rsplit("/", 1)[-1])
        source = (f.parent_url or linked_from) if is_att else url
        # a title or link text may itself hold a number: findings quote it, so it is masked here
        r = Readable(f, url, masked_window(title, 0, 120), source, is_att)
        if not f.ok:
            if is_att:
                r.unreadable = f"下载失败（{f.error_kind or f.status}）"
                out.append(r)
            continue
        key = (f.body_hash, _ext(url), f.content_type, f.encoding, r.title, is_att)
        if f.body_hash and key in done:
            r.read, r.cut, r.unreadable, r.scans = done[key]
            out.append(r)
            continue
        # an attachment's reading is kept for the disclosure checks that read it too (read_stored);
        # a page's lines live only while it is scanned
        doc, r.unreadable = read_stored(snap, f, limits) if is_att else _read_page(snap, f, limits)
        if doc is not None:
            r.read, r.cut = True, doc.cut
            r.scans = {name: _run(scan, r, doc) for name, scan in scans.items()}
        done[key] = (r.read, r.cut, r.unreadable, r.scans)
        out.append(r)
    return Documents(out, skipped)


def _run(scan: Scan, r: Readable, doc: Document) -> Any:
    try:
        return scan(r, doc)
    except Exception as e:      # a document a detector did not foresee: its own check fails, not the others
        return _ScanFailed(e)


def _ext(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1].rpartition(".")[2].lower()


def _read_page(snap: SiteSnapshot, f: FetchRow, limits: Limits) -> tuple[Document | None, str | None]:
    if not f.body_hash:
        return None, "内容未保存（文件过大或仅检查了链接）"
    return _read_body(snap, f.body_hash, f.final_url or f.url, f.content_type, f.encoding, limits)


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
