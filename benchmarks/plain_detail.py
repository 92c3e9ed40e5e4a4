"""The reference for the detail export's whole-process figure: a plain script that reads the
same task rows with sqlite3 and writes them with xlsxwriter (constant memory), with the same
columns, header style, widths, number formats, frozen header and autofilter, but none of the
app (no SQLAlchemy, no translations, no masking, no inert text).

    python benchmarks/plain_detail.py DB.sqlite OUT.xlsx

``benchmarks/README.md`` (Exports) times it against ``griddesk export detail --table tasks``
with ``farm-bench``.
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import date, datetime, timedelta

import xlsxwriter

SQL = """
SELECT t.task_no, t.kind, t.status, c.customer_no, c.name, p.policy_no, w.employee_no, w.name,
       m.name, t.channel, t.created_at, t.due_date, t.completed_at, t.outcome
FROM task t
JOIN customer c ON c.id = t.customer_id
LEFT JOIN policy p ON p.id = t.policy_id
LEFT JOIN specialist w ON w.id = t.specialist_id
LEFT JOIN team m ON m.id = w.team_id
ORDER BY t.id
"""
HEADERS = ["任务编号", "类型", "状态", "客户号", "客户姓名", "保单号", "工号", "专员", "团队",
           "渠道", "创建时间", "应完成日", "完成时间", "结果"]  # fmt: skip
WIDTHS = [19, 13, 9, 15, 11, 17, 12, 11, 13, 11, 19, 13, 19, 23]
SHANGHAI = timedelta(hours=8)


def main(db: str, out: str) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    wb = xlsxwriter.Workbook(out, {"constant_memory": True})
    ws = wb.add_worksheet("任务")
    header = wb.add_format({"bold": True, "font_color": "#1F3864", "bg_color": "#DDEBF7"})
    stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    for c, w in enumerate(WIDTHS):
        ws.set_column(c, c, w)
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, HEADERS, header)
    n = 0
    for n, row in enumerate(conn.execute(SQL), 1):
        ws.write_row(n, 0, row[:10])
        if row[10]:
            ws.write_datetime(n, 10, datetime.fromisoformat(row[10]) + SHANGHAI, stamp)
        if row[11]:
            ws.write_datetime(n, 11, date.fromisoformat(row[11]), day)
        if row[12]:
            ws.write_datetime(n, 12, datetime.fromisoformat(row[12]) + SHANGHAI, stamp)
        if row[13] is not None:
            ws.write_string(n, 13, row[13])
    ws.autofilter(0, 0, n, len(HEADERS) - 1)
    wb.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
