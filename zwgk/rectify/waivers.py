"""Waivers (报备): a justified exception to a finding, scoped by site / check / fingerprint.

Two sources, one table: ``waivers.toml`` next to ``sites.toml`` (kept in version control by the
office) and ``zwgk waive`` (written straight into the store). Before each run is judged the file is
synchronised into the ``waivers`` table (entries gone from the file are revoked, never deleted), and
the waivers in force on the run's date are recorded with the run (``run_waivers``): re-rendering an
old run shows the waivers it was judged with, and an expired waiver simply is not in force on the
next run, so its finding returns by itself.

A waived finding is not deducted and does not veto (``core/scoring.py``); reports still list it,
as 已报备, in its own section.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from core.store import Store, utcnow
from core.tomlpos import Positions, where
from zwgk.config import ConfigError, parse_toml, read_config_text

WAIVERS_FILE = "waivers.toml"
FINGERPRINT = re.compile(r"^[0-9a-f]{20}$")
# key -> (accepted types, required)
WAIVER_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "site": ((str,), False), "check": ((str,), False), "fingerprint": ((str,), False),
    "reason": ((str,), True), "approver": ((str,), True), "date": ((date,), True), "expires": ((date,), False),
}


@dataclass(frozen=True)
class Waiver:
    site_id: str | None
    check_id: str | None
    fingerprint: str | None
    reason: str
    approver: str
    granted: date
    expires: date | None          # inclusive; None = until revoked
    source: str = "cli"
    id: int | None = None

    def in_force(self, day: date) -> bool:
        return self.granted <= day and (self.expires is None or day <= self.expires)

    def covers(self, site_id: str, check_id: str, fingerprint: str) -> bool:
        return ((self.site_id is None or self.site_id == site_id)
                and (self.check_id is None or self.check_id == check_id)
                and (self.fingerprint is None or self.fingerprint == fingerprint))

    def scope_text(self) -> str:
        parts = [f"网站={self.site_id}" if self.site_id else "", f"检查项={self.check_id}" if self.check_id else "",
                 f"指纹={self.fingerprint}" if self.fingerprint else ""]
        return "，".join(p for p in parts if p)

    def key(self) -> tuple[Any, ...]:
        """What makes two waivers the same entry (for synchronising the file)."""
        return (self.site_id, self.check_id, self.fingerprint, self.reason, self.approver,
                self.granted.isoformat(), self.expires.isoformat() if self.expires else None)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["granted"] = self.granted.isoformat()
        d["expires"] = self.expires.isoformat() if self.expires else None
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Waiver:
        return cls(site_id=d.get("site_id"), check_id=d.get("check_id"), fingerprint=d.get("fingerprint"),
                   reason=str(d.get("reason", "")), approver=str(d.get("approver", "")),
                   granted=date.fromisoformat(d["granted"]),
                   expires=date.fromisoformat(d["expires"]) if d.get("expires") else None,
                   source=str(d.get("source", "cli")), id=d.get("id"))


# -- validation (shared by the file and the CLI) ---------------------------------

def scope_problems(site_id: str | None, check_id: str | None, fingerprint: str | None,
                   granted: date, expires: date | None, *, site_ids: Iterable[str] | None,
                   check_ids: Iterable[str] | None) -> list[tuple[str | None, str]]:
    """(key, problem) pairs; empty when the waiver is valid."""
    out: list[tuple[str | None, str]] = []
    if not (site_id or check_id or fingerprint):
        out.append((None, "豁免须至少给出 site、check、fingerprint 之一（否则将豁免全部问题）"))
    sites = set(site_ids) if site_ids is not None else None
    checks = set(check_ids) if check_ids is not None else None
    if site_id and sites is not None and site_id not in sites:
        out.append(("site", f"{site_id!r} 不是 sites.toml 中的网站 id（可用：{', '.join(sorted(sites))}）"))
    if check_id and checks is not None and check_id not in checks:
        out.append(("check", f"{check_id!r} 不是检查项 id（见 README 的检查项表）"))
    if fingerprint and not FINGERPRINT.match(fingerprint):
        out.append(("fingerprint", f"{fingerprint!r} 不是问题指纹（20位十六进制数字，见“指纹”列）"))
    if expires is not None and expires < granted:
        out.append(("expires", f"到期日 {expires} 早于豁免日期 {granted}"))
    return out


def parse_waivers(text: str, path: str | Path, *, site_ids: Iterable[str] | None = None,
                  check_ids: Iterable[str] | None = None) -> list[Waiver]:
    """``[[waiver]]`` entries; every problem reported as ``file:line`` (ConfigError → exit 2)."""
    path = Path(path)
    data = parse_toml(text, path)
    pos = Positions(text)
    errors: list[str] = []
    for k in data:
        if k != "waiver":
            errors.append(f"{where(path, pos, k)}: 未知的表或键 {k!r}（此文件只应包含 [[waiver]] 条目）")
    raw = data.get("waiver", [])
    if not isinstance(raw, list):
        errors.append(f"{where(path, pos, 'waiver')}: 'waiver' 应写成 [[waiver]] 表（两层方括号）")
        raw = []
    out: list[Waiver] = []
    for i, w in enumerate(raw):
        def err(key: str | None, msg: str, i: int = i) -> None:
            errors.append(f"{where(path, pos, 'waiver', i, key)}: [[waiver]] #{i + 1}{' ' + key if key else ''}: {msg}")

        bad = False
        for k, v in w.items():
            if k not in WAIVER_KEYS:
                err(k, f"未知的键（可用：{', '.join(WAIVER_KEYS)}）")
                bad = True
            elif not isinstance(v, WAIVER_KEYS[k][0]) or (isinstance(v, bool)):
                want = "日期，如 2026-12-31（不加引号）" if WAIVER_KEYS[k][0] == (date,) else "字符串"
                err(k, f"应为{want}，实际为 {type(v).__name__} {v!r}")
                bad = True
        for k, (_, required) in WAIVER_KEYS.items():
            if required and k not in w:
                err(None, f"缺少必填键 {k!r}")
                bad = True
        for k in ("reason", "approver"):
            if isinstance(w.get(k), str) and not w[k].strip():
                err(k, "不能为空")
                bad = True
        if bad:
            continue
        granted, expires = w["date"], w.get("expires")
        problems = scope_problems(w.get("site"), w.get("check"), w.get("fingerprint"), granted, expires,
                                  site_ids=site_ids, check_ids=check_ids)
        for key, msg in problems:
            err(key, msg)
        if problems:
            continue
        out.append(Waiver(w.get("site"), w.get("check"), w.get("fingerprint"), w["reason"].strip(),
                          w["approver"].strip(), granted, expires, source=f"file:{path.resolve()}"))
    if errors:
        raise ConfigError("\n".join(errors))
    return out


def waivers_path(sites_path: str | Path) -> Path:
    return Path(sites_path).parent / WAIVERS_FILE


def load_waivers_file(sites_path: str | Path, *, site_ids: Iterable[str] | None = None,
                      check_ids: Iterable[str] | None = None) -> list[Waiver] | None:
    """The waivers.toml next to a sites file, validated; None when there is none."""
    path = waivers_path(sites_path)
    if not path.exists():
        return None
    return parse_waivers(read_config_text(path), path, site_ids=site_ids, check_ids=check_ids)


def known_check_ids() -> set[str]:
    from checks.registry import BY_ID

    return set(BY_ID)


# -- the store -----------------------------------------------------------------

def _row_waiver(r: Any) -> Waiver:
    return Waiver(r["site_id"], r["check_id"], r["fingerprint"], r["reason"], r["approver"],
                  date.fromisoformat(r["granted"]), date.fromisoformat(r["expires"]) if r["expires"] else None,
                  source=r["source"], id=r["id"])


def add_waiver(store: Store, w: Waiver) -> int:
    with store.transaction():
        cur = store.db.execute(
            "INSERT INTO waivers (source, site_id, check_id, fingerprint, reason, approver, granted, expires,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (w.source, w.site_id, w.check_id, w.fingerprint, w.reason, w.approver, w.granted.isoformat(),
             w.expires.isoformat() if w.expires else None, utcnow()))
    return int(cur.lastrowid or 0)


def revoke_waiver(store: Store, waiver_id: int) -> bool:
    with store.transaction():
        cur = store.db.execute("UPDATE waivers SET revoked_at=? WHERE id=? AND revoked_at IS NULL",
                               (utcnow(), waiver_id))
    return cur.rowcount > 0


def stored_waivers(store: Store, *, include_revoked: bool = False) -> list[Waiver]:
    q = "SELECT * FROM waivers" + ("" if include_revoked else " WHERE revoked_at IS NULL") + " ORDER BY id"
    return [_row_waiver(r) for r in store.db.execute(q)]


def sync_file(store: Store, waivers: list[Waiver], source: str) -> tuple[int, int]:
    """Make the store's active waivers from ``source`` equal the file's; returns (added, revoked)."""
    with store.transaction():
        current = {(_row_waiver(r).key()): r["id"] for r in store.db.execute(
            "SELECT * FROM waivers WHERE source=? AND revoked_at IS NULL", (source,))}
        wanted = {w.key(): w for w in waivers}
        revoked = [wid for key, wid in current.items() if key not in wanted]
        for wid in revoked:
            store.db.execute("UPDATE waivers SET revoked_at=? WHERE id=?", (utcnow(), wid))
        added = [w for key, w in wanted.items() if key not in current]
        for w in added:
            add_waiver(store, replace(w, source=source))
    return len(added), len(revoked)


def record_run(store: Store, run_id: int, day: date, findings: Iterable[tuple[str, str, str]]) -> list[Waiver]:
    """Record the waivers in force on ``day`` with the run, and which of its findings each covers.

    ``findings``: (site id, check id, fingerprint) of the run's failing findings. Replaces an
    earlier record of the same run (re-judging). Returns the waivers in force.
    """
    active = [w for w in stored_waivers(store) if w.in_force(day)]
    found = list(findings)
    with store.transaction():
        store.db.execute("DELETE FROM run_waivers WHERE run_id=?", (run_id,))
        for w in active:
            covered = sorted({fp for sid, cid, fp in found if w.covers(sid, cid, fp)})
            store.db.execute("INSERT INTO run_waivers (run_id, waiver_id, data, fingerprints) VALUES (?, ?, ?, ?)",
                             (run_id, w.id, json.dumps(w.to_json(), ensure_ascii=False), json.dumps(covered)))
    return active


def run_waivers(store: Store, run_id: int) -> list[Waiver]:
    """The waivers recorded with a run (empty for runs judged before waivers existed)."""
    out = []
    for r in store.db.execute("SELECT data FROM run_waivers WHERE run_id=? ORDER BY waiver_id", (run_id,)):
        try:
            out.append(Waiver.from_json(json.loads(r[0])))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def waiver_history(store: Store) -> list[dict[str, Any]]:
    """Every waiver with the runs it was in force for and the findings it covered there."""
    runs: dict[int, list[dict[str, Any]]] = {}
    for r in store.db.execute("SELECT run_id, waiver_id, fingerprints FROM run_waivers ORDER BY run_id"):
        runs.setdefault(r["waiver_id"], []).append({"run_id": r["run_id"],
                                                    "fingerprints": json.loads(r["fingerprints"])})
    out = []
    for r in store.db.execute("SELECT * FROM waivers ORDER BY id"):
        d = _row_waiver(r).to_json()
        d.update(created_at=r["created_at"], revoked_at=r["revoked_at"], runs=runs.get(r["id"], []))
        out.append(d)
    return out


def parse_cli_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{what}: {text!r} 不是日期（YYYY-MM-DD）") from None


__all__ = ["WAIVERS_FILE", "Waiver", "add_waiver", "load_waivers_file", "parse_waivers", "record_run",
           "revoke_waiver", "run_waivers", "stored_waivers", "sync_file", "waiver_history"]
