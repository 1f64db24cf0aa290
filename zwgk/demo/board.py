"""留言 boards (领导信箱 / 书记信箱) in the two layouts the demo exercises (docs/DOMAIN.md §8, tasks 21-24).

`list_layout` (portal, dzjd): <li> entries linking to detail pages that hold the 留言时间,
回复时间 and 回复单位 in a <table>. `table_layout` (old ASP site): one <tr> per message on the list
page itself with 留言时间 / 回复时间 columns, plus detail pages.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

e = html.escape

SUBJECTS = [
    ("关于海滨大道路灯不亮的问题", "海滨大道遮浪段多盏路灯夜间不亮，影响群众出行安全，望尽快维修。", "区城乡建设和管理局"),
    ("咨询新生儿医保参保办理流程", "孩子刚出生，想了解在本区如何办理城乡居民医保参保手续。", "区社会事务局"),
    ("建议增加田墘至汕尾市区公交班次", "早晚高峰公交车太少，等车时间长，建议增加班次。", "区城乡建设和管理局"),
    ("反映渔港码头垃圾清运不及时", "渔港码头附近垃圾堆放多日未清运，气味很大。", "田墘街道办事处"),
    ("咨询灵活就业人员社保补贴申领", "请问灵活就业人员社保补贴需要哪些材料，在哪里办理？", "区党工委组织人社局"),
    ("关于遮浪景区停车收费标准的疑问", "国庆期间景区停车场收费较高，请问收费标准依据是什么？", "区经济促进和旅游局"),
    ("反映农村危房改造补助发放进度", "去年申请的危房改造补助至今未到位，请帮忙查询。", "区农林水和海洋渔业局"),
    ("咨询小学新生入学报名时间", "请问今年秋季小学一年级新生报名时间和所需材料。", "区公共事业局"),
    ("建议在东洲社区增设健身器材", "社区居民较多但健身设施少，建议增设一批健身器材。", "东洲街道办事处"),
]


@dataclass
class Message:
    no: int
    title: str
    content: str
    received: dt.date
    replied: dt.date | None
    unit: str
    url: str = ""


def messages(today: dt.date, plan: list[tuple[int, int | dt.date | None]], first_no: int = 1001) -> list[Message]:
    """plan = [(received N days ago, reply lag in days | reply date | None = not yet answered)]."""
    out = []
    for i, (ago, lag) in enumerate(plan):
        title, content, unit = SUBJECTS[i % len(SUBJECTS)]
        received = today - dt.timedelta(days=ago)
        replied = lag if isinstance(lag, dt.date) else (received + dt.timedelta(days=lag) if lag is not None else None)
        out.append(Message(first_no + i, title, content, received, replied, unit))
    return sorted(out, key=lambda m: m.received, reverse=True)


def detail_html(m: Message) -> str:
    reply = (f"<tr><th>回复单位</th><td>{e(m.unit)}</td></tr><tr><th>回复时间</th><td>{m.replied:%Y-%m-%d} 16:30</td></tr>"
             f"<tr><th>回复内容</th><td>您好！您反映的问题已收悉，经核实，我单位已安排专人跟进处理，感谢您的关注与支持。</td></tr>"
             if m.replied else "<tr><th>办理状态</th><td>办理中</td></tr>")
    return (f'<table class="msg-detail" border="1"><tr><th>留言编号</th><td>{m.no}</td></tr>'
            f"<tr><th>留言标题</th><td>{e(m.title)}</td></tr><tr><th>留言时间</th><td>{m.received:%Y-%m-%d} 09:15</td></tr>"
            f"<tr><th>留言内容</th><td>{e(m.content)}</td></tr>{reply}</table>")


def list_layout(msgs: list[Message]) -> str:
    lis = "".join(
        f'<li><a href="{e(m.url)}" title="{e(m.title)}">{e(m.title)}</a>'
        f'<span class="date">留言时间：{m.received:%Y-%m-%d}</span>'
        f'<span class="state">{"已回复" if m.replied else "办理中"}</span></li>' for m in msgs)
    return f'<ul class="msg-list">{lis}</ul>'


def table_layout(msgs: list[Message]) -> str:
    rows = "".join(
        f'<tr><td>{m.no}</td><td><a href="{e(m.url)}">{e(m.title)}</a></td><td>{m.received:%Y-%m-%d}</td>'
        f'<td>{m.replied.strftime("%Y-%m-%d") if m.replied else "未回复"}</td><td>{e(m.unit)}</td></tr>'
        for m in msgs)
    return ('<table class="msg-table" width="100%" border="1" cellspacing="0"><tr><th>编号</th><th>留言标题</th>'
            f"<th>留言时间</th><th>回复时间</th><th>回复单位</th></tr>{rows}</table>")
