"""The 投资概算 as a spreadsheet with live formulas, for finance reviewers (the only openpyxl user).

Item amounts are =ROUND(数量×单价,2), group subtotals and the total are SUM
formulas, and the last rows compare the total with budget.total, so a reviewer
who changes a quantity sees every figure that depends on it move.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from xzdoc.render.context import RenderContext
from xzdoc.render.reproducible import read_zip, write_zip

MONEY = "#,##0.00"
HEADERS = ("序号", "费用名称", "单位", "数量", "单价（万元）", "金额（万元）", "备注")
WIDTHS = (8, 40, 8, 10, 14, 16, 24)
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def estimate_workbook(ctx: RenderContext, font: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "投资概算"
    styles = _Styles(font)
    _estimate_sheet(sheet, ctx, styles)
    _budget_sheet(book.create_sheet("分年度预算"), ctx, styles)
    when = ctx.stamp.local.astimezone(dt.UTC).replace(tzinfo=None)
    book.properties.creator = "xzdoc"
    book.properties.title = f"{ctx.project.name}投资概算"
    book.properties.created = when
    buffer = io.BytesIO()
    book.save(buffer)
    # openpyxl stamps "now" as the modification time when saving; the build's date replaces it.
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    parts = [(name, _CORE_DATES.sub(rb"\g<1>" + stamp + rb"\g<3>", data) if name == "docProps/core.xml" else data)
             for name, data in read_zip(buffer.getvalue())]
    return write_zip(parts, ctx.stamp.zip_time, sort=False)


class _Styles:
    def __init__(self, font: str) -> None:
        from openpyxl.styles import Alignment, Border, Font, Side

        thin = Side(style="thin", color="000000")
        self.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.body = Font(name=font, size=11)
        self.bold = Font(name=font, size=11, bold=True)
        self.title = Font(name=font, size=16, bold=True)
        self.center = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.left = Alignment(horizontal="left", vertical="center", wrap_text=True)
        self.right = Alignment(horizontal="right", vertical="center")


def _cell(sheet: Any, row: int, col: int, value: Any, styles: _Styles, *, bold: bool = False, money: bool = False,
          align: str = "left") -> None:
    cell = sheet.cell(row=row, column=col, value=value)
    cell.font = styles.bold if bold else styles.body
    cell.border = styles.border
    cell.alignment = {"center": styles.center, "right": styles.right}.get(align, styles.left)
    if money:
        cell.number_format = MONEY
        cell.alignment = styles.right


def _number(text: str) -> Decimal | str:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return text


def _heading(sheet: Any, ctx: RenderContext, title: str, columns: int, styles: _Styles) -> None:
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    top = sheet.cell(row=1, column=1, value=title)
    top.font, top.alignment = styles.title, styles.center
    sheet.row_dimensions[1].height = 30
    sheet.cell(row=2, column=1, value=f"项目编号：{ctx.project.id}").font = styles.body
    unit = sheet.cell(row=2, column=columns, value="单位：万元")
    unit.font, unit.alignment = styles.body, styles.right


def _estimate_sheet(sheet: Any, ctx: RenderContext, styles: _Styles) -> None:
    _heading(sheet, ctx, f"{ctx.project.name}投资概算表", len(HEADERS), styles)
    for col, (text, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), 1):
        _cell(sheet, 3, col, text, styles, bold=True, align="center")
        sheet.column_dimensions[chr(64 + col)].width = width
    row, subtotals = 4, []
    for group in ctx.estimate:
        head = row
        _cell(sheet, head, 1, group.numeral, styles, bold=True, align="center")
        _cell(sheet, head, 2, group.label, styles, bold=True)
        for col in (3, 4, 5, 7):
            _cell(sheet, head, col, None, styles)
        for item in group.items:
            row += 1
            _cell(sheet, row, 1, item.number, styles, align="center")
            _cell(sheet, row, 2, item.name, styles)
            _cell(sheet, row, 3, item.unit, styles, align="center")
            _cell(sheet, row, 4, _number(item.quantity), styles, align="right")
            _cell(sheet, row, 5, item.unit_price, styles, money=True)
            formula = f"=ROUND(D{row}*E{row},2)" if item.unit_price is not None else item.amount
            _cell(sheet, row, 6, formula, styles, money=True)
            _cell(sheet, row, 7, item.note, styles)
        _cell(sheet, head, 6, f"=SUM(F{head + 1}:F{row})", styles, bold=True, money=True)
        subtotals.append(f"F{head}")
        row += 1
    total_row = row
    _cell(sheet, total_row, 1, None, styles)
    _cell(sheet, total_row, 2, "合计", styles, bold=True, align="center")
    for col in (3, 4, 5, 7):
        _cell(sheet, total_row, col, None, styles)
    _cell(sheet, total_row, 6, f"=SUM({','.join(subtotals)})" if subtotals else 0, styles, bold=True, money=True)
    _cell(sheet, total_row + 1, 2, "总预算（project.yaml 的 budget.total）", styles)
    _cell(sheet, total_row + 1, 6, ctx.budget_total, styles, money=True)
    _cell(sheet, total_row + 2, 2, "合计与总预算之差（应为 0.00）", styles)
    _cell(sheet, total_row + 2, 6, f"=F{total_row}-F{total_row + 1}", styles, money=True)
    sheet.freeze_panes = "A4"


def _budget_sheet(sheet: Any, ctx: RenderContext, styles: _Styles) -> None:
    _heading(sheet, ctx, f"{ctx.project.name}分年度预算及资金来源", 3, styles)
    for col, width in zip("ABC", (30, 16, 16), strict=True):
        sheet.column_dimensions[col].width = width
    row = 3
    for title, shares in (("年度", ctx.budget_years), ("资金来源", ctx.budget_sources)):
        _cell(sheet, row, 1, title, styles, bold=True, align="center")
        _cell(sheet, row, 2, "金额（万元）", styles, bold=True, align="center")
        _cell(sheet, row, 3, "占比", styles, bold=True, align="center")
        first = row + 1
        for share in shares:
            row += 1
            _cell(sheet, row, 1, share.label, styles)
            _cell(sheet, row, 2, share.amount, styles, money=True)
        row += 1
        _cell(sheet, row, 1, "合计", styles, bold=True, align="center")
        _cell(sheet, row, 2, f"=SUM(B{first}:B{row - 1})" if shares else 0, styles, bold=True, money=True)
        for r in range(first, row + 1):
            _cell(sheet, r, 3, f'=IF(B{row}=0,"",B{r}/B{row})', styles, align="right")
            sheet.cell(row=r, column=3).number_format = "0.00%"
        row += 2
