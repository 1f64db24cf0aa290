"""The HTML dashboard: self-contained static pages (no CDN, no script; works from disk).

index.html (run overview, sites table, trend chart), site-<id>.html (findings grouped by check),
tasks.html and task-<n>.html. Every value from the model goes through jinja2 autoescape; only
http(s) URLs become links; a Content-Security-Policy forbids scripts and remote resources.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reports.common import num, pct, safe_href

TEMPLATES = Path(__file__).with_name("templates")
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22"]
_CSS_SAFE = re.compile(r"[^a-z0-9_-]")


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(safe_href=safe_href, num=num, pct=pct, css=css_class)
    return env


def css_class(value: Any) -> str:
    text = str(value)
    ascii_ = _CSS_SAFE.sub("", text.lower())
    return ascii_ if ascii_ == text else "s-" + text.replace(" ", "")


def page_name(site_id: str) -> str:
    return f"site-{_CSS_SAFE.sub('_', site_id.lower())}.html"


def trend_chart(series: list[tuple[str, list[dict[str, Any]]]], *, width: int = 720, height: int = 260,
                small: bool = False, fail_below: float = 60) -> dict[str, Any]:
    """Coordinates for an inline SVG line chart of scores (0–100; bonus above 100 clipped)."""
    left, right, top, bottom = (2, width - 2, 3, height - 3) if small else (40, width - 12, 10, height - 22)
    dates = sorted({p["date"] for _, pts in series for p in pts if p.get("date")})
    if not dates:
        return {"series": []}
    step = (right - left) / max(1, len(dates) - 1)
    xs = {d: left + (i * step if len(dates) > 1 else (right - left) / 2) for i, d in enumerate(dates)}

    def y(score: float) -> float:
        return round(bottom - (min(max(score, 0.0), 100.0) / 100.0) * (bottom - top), 1)

    out = []
    for i, (name, pts) in enumerate(series):
        dots = [{"x": round(xs[p["date"]], 1), "y": y(p["score"]),
                 "label": f"{p['date']}：{p['score']:.1f}分（{p.get('verdict', '')}）"}
                for p in pts if p.get("date") and p.get("score") is not None]
        if dots:
            out.append({"name": name, "color": PALETTE[i % len(PALETTE)], "dots": dots,
                        "points": " ".join(f"{d['x']},{d['y']}" for d in dots)})
    grid = [{"y": y(v), "label": str(v), "mark": v == fail_below} for v in (0, 20, 40, 60, 80, 100)]
    if small:
        grid = [g for g in grid if g["mark"]]
    shown = dates if len(dates) <= 8 else dates[:: max(1, len(dates) // 8)]
    return {"series": out, "width": width, "height": height, "left": left, "right": right, "small": small,
            "grid": grid, "xlabels": [{"x": round(xs[d], 1), "label": d[5:]} for d in shown]}


_OUTCOME_ORDER = {"fail": 0, "error": 1, "warn": 2, "manual": 3, "pass": 4, "not_applicable": 5}


def write_html(model: dict[str, Any], out_dir: Path) -> Path:
    env = environment()
    sites = model.get("sites", [])
    history = model.get("history", {})
    pages = {s["id"]: page_name(s["id"]) for s in sites}
    names = {s["id"]: s["name"] for s in sites}
    check_titles = {c["check_id"]: c["title"] for s in sites for c in s.get("checks", [])}
    view = []
    for s in sites:
        h = history.get(s["id"], [])
        # what needs acting on first: vetoes, failures, then could-not-verify, warnings, passes
        checks = sorted(s.get("checks", []), key=lambda c: (not c.get("veto"), _OUTCOME_ORDER.get(c.get("outcome"), 9),
                                                            -(c.get("deduction") or 0), c.get("check_id", "")))
        view.append({**s, "checks": checks, "page": pages[s["id"]],
                     "spark": trend_chart([(s["name"], h)], width=120, height=32, small=True),
                     "chart": trend_chart([(s["name"], h)])})
    own = [v for v in view if not v.get("column_of")]
    chart = trend_chart([(s["name"], history.get(s["id"], [])) for s in own])
    common = {"model": model, "pages": pages, "names": names, "check_titles": check_titles}
    (out_dir / "index.html").write_text(env.get_template("index.html.j2").render(
        sites=view, chart=chart, **common), "utf-8")
    tpl = env.get_template("site.html.j2")
    for s in view:
        (out_dir / s["page"]).write_text(tpl.render(site=s, **common), "utf-8")
    (out_dir / "tasks.html").write_text(env.get_template("tasks.html.j2").render(**common), "utf-8")
    tpl = env.get_template("task.html.j2")
    for t in model.get("tasks", []):
        (out_dir / f"task-{int(t['number'])}.html").write_text(tpl.render(task=t, **common), "utf-8")
    return out_dir / "index.html"
