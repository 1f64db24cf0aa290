"""The demo's 严重错误 candidates: a 公示 attachment with unmasked 身份证号 and a leader's wrong title.

Both are what a person must confirm (国办秘函〔2019〕19号 检查指标, 单项否决 严重错误): the checks raise
them for review (``privacy-leaks``, ``wording-lexicon``), and confirming them in ``zwgk review-queue``
vetoes 区公共事业局 in the next ``zwgk report``. The district's own lexicon (its current leaders) is
written beside sites.toml as ``lexicon.toml`` and named by ``[audit] lexicon``.

All numbers are fictional, generated with a valid GB 11643 check character so they look real.
"""
from __future__ import annotations

import datetime as dt
import io

from core.lexicon import DEFAULT_PATH

LEADERS = [("陈志远", ["区党工委书记"]), ("林海涛", ["区党工委副书记", "管委会主任"])]
RELIEF = [("陈某某", "441502", "19560318", "031", "13826601234", 3, 1500),
          ("林某", "441502", "19790705", "114", "15915209876", 2, 1200),
          ("黄某某", "441581", "19480926", "052", "18718451845", 1, 800),
          ("郑某", "441521", "19670111", "287", "13690012345", 4, 2000)]


def fake_id(area: str, born: str, seq: str) -> str:
    body = area + born + seq
    return body + "10X98765432"[sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(body)) % 11]


def relief_ids() -> list[str]:
    return [fake_id(a, b, s) for _, a, b, s, *_ in RELIEF]


def lexicon_toml() -> str:
    """The bundled lexicon plus the district's current leaders."""
    lines = [DEFAULT_PATH.read_text("utf-8"), "", "# -- 红海湾经济开发区 现任领导（演示）"]
    for name, titles in LEADERS:
        lines += ["[[leader]]", f'name = "{name}"', "titles = [" + ", ".join(f'"{t}"' for t in titles) + "]"]
    return "\n".join(lines) + "\n"


def relief_xlsx(today: dt.date) -> bytes:
    """临时救助对象公示表 as an Excel attachment, 身份证号 and 联系电话 in full (the leak)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "临时救助对象"
    ws.append([f"{today.year}年第{'一二三四'[(today.month - 1) // 3]}季度临时救助对象公示表"])
    ws.append(["序号", "姓名", "身份证号码", "联系电话", "家庭人口", "救助金额（元）"])
    for i, (name, area, born, seq, phone, people, amount) in enumerate(RELIEF, start=1):
        ws.append([i, name, fake_id(area, born, seq), phone, people, amount])
    stamp = dt.datetime(today.year, today.month, today.day, 9, 0)
    wb.properties.created = wb.properties.modified = stamp
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
