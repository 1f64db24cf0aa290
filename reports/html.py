"""The HTML dashboard: self-contained static pages (no CDN, no script; works from disk).

index.html (run overview, sites table, trend chart), site-<id>.html (findings grouped by check),
tasks.html and task-<n>.html. Every value from the model goes through jinja2 autoescape; only
http(s) URLs become links; a Content-Security-Policy forbids scripts and remote resources.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.report import AuditReport, CheckReport, HistoryPoint, SiteReport, TrendPoint, UnitReport
from reports.base import WriteContext
from reports.common import evidence_shot, live_link_ok, local_time, num, pct, safe_href

TEMPLATES = Path(__file__).with_name("templates")
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22"]
_CSS_SAFE = re.compile(r"[^a-z0-9_-]")


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(safe_href=safe_href, num=num, pct=pct, css=css_class, live_ok=live_link_ok,
                       evidence_shot=evidence_shot,
                       local_time=local_time)
    return env


def css_class(value: Any) -> str:
    text = str(value)
    ascii_ = _CSS_SAFE.sub("", text.lower())
    return ascii_ if ascii_ == text else "s-" + text.replace(" ", "")


def page_name(site_id: str) -> str:
    return f"site-{_CSS_SAFE.sub('_', site_id.lower())}.html"


@dataclass
class SiteView:
    """A site as its pages show it: the report's site plus what the page adds (checks in the order
    to act on, its file name, charts). Reads of the site's own fields fall through to ``site``."""

    site: SiteReport
    checks: list[CheckReport]
    page: str
    spark: dict[str, Any]
    chart: dict[str, Any]
    avail: dict[str, Any] | None = None
    multi_run: bool = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.site, name)


@dataclass
class UnitLine:
    """A unit in the 通报: the report's unit plus its findings counted by 级别."""

    unit_report: UnitReport
    veto: int
    deduct: int
    hint: int
    manual: int

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unit_report, name)


@dataclass(frozen=True)
class VetoLine:
    """A 单项否决 in the 通报: whose site, which check, what it said."""

    unit: str
    site: str
    title: str
    text: str


def trend_chart(series: Sequence[tuple[str, Sequence[HistoryPoint]]], *, width: int = 720, height: int = 260,
                small: bool = False, fail_below: float = 60) -> dict[str, Any]:
    """Coordinates for an inline SVG line chart of scores (0–100; bonus above 100 clipped)."""
    left, right, top, bottom = (2, width - 2, 3, height - 3) if small else (40, width - 12, 10, height - 22)
    dates = sorted({p.date for _, pts in series for p in pts if p.date})
    if not dates:
        return {"series": []}
    step = (right - left) / max(1, len(dates) - 1)
    xs = {d: left + (i * step if len(dates) > 1 else (right - left) / 2) for i, d in enumerate(dates)}

    def y(score: float) -> float:
        return round(bottom - (min(max(score, 0.0), 100.0) / 100.0) * (bottom - top), 1)

    out = []
    for i, (name, pts) in enumerate(series):
        dots = [{"x": round(xs[p.date], 1), "y": y(p.score),
                 "label": f"{p.date}：{p.score:.1f}分（{p.verdict}）"}
                for p in pts if p.date and p.score is not None]
        if dots:
            out.append({"name": name, "color": PALETTE[i % len(PALETTE)], "dots": dots,
                        "points": " ".join(f"{d['x']},{d['y']}" for d in dots)})
    grid = [{"y": y(v), "label": str(v), "mark": v == fail_below} for v in (0, 20, 40, 60, 80, 100)]
    if small:
        grid = [g for g in grid if g["mark"]]
    shown = dates if len(dates) <= 8 else dates[:: max(1, len(dates) // 8)]
    return {"series": out, "width": width, "height": height, "left": left, "right": right, "small": small,
            "grid": grid, "xlabels": [{"x": round(xs[d], 1), "label": d[5:]} for d in shown]}


# -- charts: coordinates for inline SVG (no script; the templates draw them) -----------------

TASK_COLORS = {"达标": "#3a9d5d", "部分达标": "#f2c14e", "未达标": "#d9534f", "无法核验": "#a7b0ba",
               "需人工核查": "#8fb8de"}
STRIP_COLORS = {"ok": "#3a9d5d", "fail": "#d9534f", "blocked": "#f2c14e", "local": "#c9ced6", "none": "#f1f3f6"}
STRIP_LABELS = {"ok": "可访问", "fail": "无法访问", "blocked": "被拦截（不计为故障）",
                "local": "核查机自身网络故障（不计）", "none": "无探测"}


def _by_score(sites: Sequence[SiteView]) -> list[SiteView]:
    return sorted(sites, key=lambda s: (s.score.score is None, -(s.score.score or 0)))


def rank_chart(sites: Sequence[SiteView], fail_below: float = 60, width: int = 760) -> dict[str, Any]:
    """Own sites ranked by score as horizontal bars, with the 60-point pass line."""
    label_w, right_pad, row_h = 250, 60, 22
    plot_w = width - label_w - right_pad
    ranked = _by_score(sites)
    rows = []
    for i, s in enumerate(ranked):
        sc = s.score.score
        vetoed = s.score.vetoed
        val = 0.0 if sc is None else min(max(float(sc), 0.0), 100.0)
        color = "#a11d12" if vetoed else ("#d9534f" if sc is not None and sc < fail_below else
                                          "#a7b0ba" if sc is None else "#3a9d5d")
        note = "单项否决" if vetoed else ("无法核验" if sc is None else f"{sc:.1f}")
        rows.append({"y": 24 + i * row_h, "name": s.name, "w": round(val / 100 * plot_w, 1), "color": color,
                     "note": note, "page": s.page, "label_x": label_w + round(val / 100 * plot_w, 1) + 4})
    line_x = label_w + fail_below / 100 * plot_w
    ticks = [{"x": round(label_w + v / 100 * plot_w, 1), "v": v} for v in (0, 20, 40, 60, 80, 100)]
    return {"rows": rows, "width": width, "height": 30 + len(rows) * row_h, "left": label_w,
            "line_x": round(line_x, 1), "ticks": ticks, "fail_below": fail_below, "row_h": row_h}


def heatmap(report: AuditReport) -> dict[str, Any]:
    """Units × tasks: each cell the unit's status on the task (达标/部分达标/未达标/无法核验/需人工核查)."""
    tasks = [t for t in report.tasks if t.units and not t.manual]
    units = sorted({u.unit for t in tasks for u in t.units})
    label_w, cell, top = 190, 20, 34
    cells = []
    for ti, t in enumerate(tasks):
        for u in t.units:
            ui = units.index(u.unit)
            cells.append({"x": label_w + ti * cell, "y": top + ui * cell, "color": TASK_COLORS.get(u.status, "#fff"),
                          "title": f"{u.unit} · 任务{t.number}（{t.group}）：{u.status}"})
    return {"cells": cells, "cell": cell, "left": label_w, "top": top,
            "cols": [{"x": label_w + i * cell + cell / 2, "n": t.number, "href": f"task-{int(t.number)}.html"}
                     for i, t in enumerate(tasks)],
            "rows": [{"y": top + i * cell + cell / 2 + 4, "unit": u} for i, u in enumerate(units)],
            "width": label_w + len(tasks) * cell + 10, "height": top + len(units) * cell + 6,
            "legend": list(TASK_COLORS.items())}


def availability_chart(strips: Mapping[str, Sequence[str]], names: Mapping[str, str], as_of: str) -> dict[str, Any]:
    """The hourly availability strip behind the 5% rule: one row per site, one cell per hour."""
    from datetime import datetime, timedelta

    label_w, cw, rh, top = 190, 3.5, 16, 18
    rows, cells = [], []
    for i, (sid, hours) in enumerate(strips.items()):
        y = top + i * (rh + 6)
        fails = sum(h == "fail" for h in hours)
        probed = sum(h in ("ok", "fail") for h in hours)
        rows.append({"y": y + rh - 4, "name": names.get(sid, sid),
                     "ratio": f"{fails / probed:.1%}" if probed else "—", "bad": probed and fails / probed >= 0.05})
        x = label_w
        for j, h in enumerate(hours):
            if h != "ok":     # green background drawn once per row; only the exceptions are cells
                cells.append({"x": round(x + j * cw, 1), "y": y, "color": STRIP_COLORS[h]})
    n = len(next(iter(strips.values()), []))
    days = []
    try:
        end = datetime.fromisoformat(as_of)
        for d in range(0, n, 24):
            days.append({"x": round(label_w + d * cw, 1), "label": (end - timedelta(hours=n - d)).strftime("%m-%d")})
    except ValueError:
        pass
    return {"rows": rows, "cells": cells, "left": label_w, "cw": cw, "rh": rh, "top": top,
            "row_w": round(n * cw, 1), "width": round(label_w + n * cw + 70, 1),
            "height": top + len(rows) * (rh + 6) + 4, "days": days,
            "legend": [(STRIP_LABELS[k], STRIP_COLORS[k]) for k in ("ok", "fail", "blocked", "local", "none")],
            "row_ys": [top + i * (rh + 6) for i in range(len(rows))]}


def runs_chart(trend: Sequence[TrendPoint], width: int = 720, height: int = 200) -> dict[str, Any] | None:
    """新发现 / 仍未整改 / 已整改 per run as stacked bars; None for a single run (no empty frame)."""
    if len(trend) < 2:
        return None
    left, bottom, top = 40, height - 24, 10
    top_val = max(max(t.new + t.open + t.fixed for t in trend), 1)
    step = (width - left - 10) / len(trend)
    bw = min(40.0, step * 0.6)
    bars = []
    for i, t in enumerate(trend):
        x, y = left + i * step + (step - bw) / 2, float(bottom)
        parts = []
        for key, color, label in (("open", "#f2c14e", "仍未整改"), ("new", "#d9534f", "新发现"),
                                  ("fixed", "#3a9d5d", "已整改")):
            n = getattr(t, key)
            h = n / top_val * (bottom - top)
            y -= h
            if n:
                parts.append({"y": round(y, 1), "h": round(h, 1), "color": color, "title": f"{t.date} {label} {n}"})
        bars.append({"x": round(x, 1), "w": round(bw, 1), "parts": parts, "label": (t.date or "")[5:],
                     "cx": round(x + bw / 2, 1)})
    return {"bars": bars, "width": width, "height": height, "bottom": bottom, "left": left, "max": top_val,
            "top": top}


TONGBAO = "通报.html"


@dataclass(frozen=True)
class TongbaoView:
    """What the one-file 通报 (and 通报.docx) show beyond the model."""

    vetoes: list[VetoLine]
    ranked: list[SiteView]
    units: list[UnitLine]


def tongbao_view(report: AuditReport, sites: Sequence[SiteView]) -> TongbaoView:
    """What the one-file 通报 needs beyond the model: vetoes, ranking, per-unit counts by 级别."""
    vetoes = []
    for s in sites:
        for c in s.checks:
            if c.check_id in s.score.vetoes:
                vetoes.append(VetoLine(s.unit, s.name, c.title, c.text))
    ranked = _by_score(sites)
    units = []
    for u in report.units:
        levels = {"veto": 0, "deduct": 0, "hint": 0, "manual": 0}
        for s in sites:
            if s.id in u.site_ids:
                for c in s.checks:
                    for f in c.findings:
                        if f.level in levels:
                            levels[f.level] += 1
        units.append(UnitLine(u, **levels))
    units.sort(key=lambda u: (-u.veto, u.score if u.score is not None else 101, u.unit))
    return TongbaoView(vetoes, ranked, units)


_OUTCOME_ORDER = {"fail": 0, "error": 1, "warn": 2, "manual": 3, "pass": 4, "not_applicable": 5}


def _check_order(c: CheckReport) -> tuple[Any, ...]:
    # what needs acting on first: vetoes, failures, then could-not-verify, warnings, passes
    return (not c.veto, _OUTCOME_ORDER.get(c.outcome, 9), -(c.deduction or 0), c.check_id)


def write_html(report: AuditReport, out_dir: Path, fail_below: float = 60) -> Path:
    env = environment()
    sites = report.sites
    history = report.history
    pages = {s.id: page_name(s.id) for s in sites}
    names = {s.id: s.name for s in sites}
    check_titles = {c.check_id: c.title for s in sites for c in s.checks}
    view = []
    for s in sites:
        h = history.get(s.id, ())
        view.append(SiteView(s, sorted(s.checks, key=_check_order), pages[s.id],
                             spark=trend_chart([(s.name, h)], width=120, height=32, small=True),
                             chart=trend_chart([(s.name, h)])))
    own = [v for v in view if not v.column_of]
    chart = trend_chart([(s.name, history.get(s.id, ())) for s in own])
    strips = report.availability or {}
    as_of = report.run.as_of or ""
    charts = {"rank": rank_chart(own, fail_below), "heat": heatmap(report),
              "avail": availability_chart(strips, names, as_of) if strips else None,
              "runs": runs_chart(report.run_trend),
              "multi_run": len({p.date for h in history.values() for p in h}) > 1}
    for v in view:
        v.avail = availability_chart({v.id: strips[v.id]}, names, as_of) if v.id in strips else None
        v.multi_run = len(history.get(v.id, ())) > 1
    common = {"model": report, "pages": pages, "names": names, "check_titles": check_titles, "charts": charts}
    (out_dir / "index.html").write_text(env.get_template("index.html.j2").render(
        sites=view, chart=chart, **common), "utf-8")
    tpl = env.get_template("site.html.j2")
    for sv in view:
        (out_dir / sv.page).write_text(tpl.render(site=sv, **common), "utf-8")
    (out_dir / "tasks.html").write_text(env.get_template("tasks.html.j2").render(**common), "utf-8")
    tb = tongbao_view(report, view)
    (out_dir / TONGBAO).write_text(env.get_template("tongbao.html.j2").render(
        vetoes=tb.vetoes, ranked=tb.ranked, units=tb.units, **common), "utf-8")
    from reports.tongbao_docx import TONGBAO_DOCX, docx_available, write_tongbao_docx

    if docx_available():        # optional extra: the same 通报 as an editable Word file
        write_tongbao_docx(report, tb, out_dir / TONGBAO_DOCX)
    tpl = env.get_template("task.html.j2")
    for t in report.tasks:
        (out_dir / f"task-{int(t.number)}.html").write_text(tpl.render(task=t, **common), "utf-8")
    return out_dir / "index.html"


def html_format(report: AuditReport, out_dir: Path, ctx: WriteContext) -> list[Path]:
    """index.html (the site, task and 通报 pages, and 通报.docx with python-docx, beside it)."""
    return [write_html(report, out_dir, ctx.fail_below)]
