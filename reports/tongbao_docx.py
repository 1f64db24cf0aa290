"""The 通报 as a Word document (python-docx), for offices that edit before sending it upward.

Same content as 通报.html (``reports.html.tongbao_view``): summary, vetoes, ranking, per-unit
counts, 整改要求. Optional: written only when python-docx is installed (extra ``docx``).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.report import AuditReport

if TYPE_CHECKING:
    from reports.html import TongbaoView
from reports.common import clean_text, num, pct

TONGBAO_DOCX = "通报.docx"


def docx_available() -> bool:
    try:
        import docx  # noqa: F401
    except ImportError:
        return False
    return True


def write_tongbao_docx(report: AuditReport, view: TongbaoView, path: Path) -> Path:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.orientation, sec.page_width, sec.page_height = WD_ORIENT.PORTRAIT, Mm(210), Mm(297)
    sec.left_margin = sec.right_margin = Mm(25)
    sec.top_margin, sec.bottom_margin = Mm(30), Mm(25)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "仿宋", Pt(14)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")   # CJK text takes the eastAsia font

    run, s = report.run, report.summary
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    t = title.add_run(clean_text(f"{run.audit_name or ''}政务公开网站核查情况通报"))
    t.bold, t.font.size = True, Pt(20)
    sub = doc.add_paragraph(f"（核查时间：{(run.as_of or '')[:10]}，第{run.id}次核查）")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def para(text: str) -> None:
        p = doc.add_paragraph(clean_text(text))
        p.paragraph_format.first_line_indent = Pt(28)

    def table(header: list[str], rows: list[list[Any]]) -> None:
        tb = doc.add_table(rows=1, cols=len(header))
        tb.style = "Table Grid"
        for cell, h in zip(tb.rows[0].cells, header, strict=True):
            cell.text = h
            cell.paragraphs[0].runs[0].bold = True
        for r in rows:
            cells = tb.add_row().cells
            for cell, v in zip(cells, r, strict=True):
                cell.text = clean_text("" if v is None else str(v))
        for row in tb.rows:
            for cell in row.cells:
                for p in cell.paragraphs:
                    for rn in p.runs:
                        rn.font.size = Pt(10.5)

    doc.add_heading("一、总体情况", level=2)
    fixed = (f"，其中新发现{s.findings.new}项、仍未整改{s.findings.open}项，"
             f"上次发现的问题已整改{s.findings.fixed}项") if report.baseline else ""
    para(f"本次共核查网站（栏目）{s.sites}个，其中自有网站{s.own_sites}个。自有网站平均得分"
         f"{num(s.district_score)}分，合格率{pct(s.pass_rate)}；{s.veto_count}个网站存在单项否决问题。"
         f"共发现不通过问题{s.findings.fail}项{fixed}。")
    doc.add_heading("二、单项否决情况", level=2)
    if view.vetoes:
        table(["序号", "单位", "网站", "否决项", "主要问题"],
              [[i, v.unit, v.site, v.title, v.text] for i, v in enumerate(view.vetoes, start=1)])
    else:
        para("本次核查未发现单项否决问题。")
    doc.add_heading("三、网站得分排名", level=2)
    table(["排名", "网站", "单位", "类型", "得分", "结论"],
          [[i, x.name, x.unit, report.label("kind", x.kind) + ("（栏目）" if x.column_of else ""),
            num(x.score.score), x.score.verdict + ("（单项否决）" if x.score.vetoed else "")]
           for i, x in enumerate(view.ranked, start=1)])
    doc.add_heading("四、各单位问题情况", level=2)
    table(["单位", "得分（最低）", "结论", "单项否决问题", "扣分问题", "提示", "需人工核查"],
          [[u.unit, num(u.score), u.verdict, u.veto, u.deduct, u.hint, u.manual]
           for u in view.units])
    doc.add_heading("五、整改要求", level=2)
    para("请各单位对照《整改清单》逐项整改，单项否决问题优先整改；在清单中填写整改时限、责任人和整改情况说明后报送，"
         "复核时逐项核验。对核查结论有异议的，请在“状态”栏选择“有异议”并说明理由，附相关证明材料。")
    doc.save(str(path))
    return path
