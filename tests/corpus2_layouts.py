"""Other secretariats' 補助対象経費内訳書 layouts: one column per 経費区分, one block per STEP, one sheet
per member. Each builds the cost sheets from a Plan; the corpus swaps them in for the usual table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.corpus2_books import Sheet
from tests.corpus2_forms import CATEGORIES, STEP_NAMES, Plan, Style, _amount

CostLayout = Callable[[Plan, Style], list[Sheet]]


def _stated(plan: Plan) -> int:
    return plan.stated_total if plan.stated_total is not None else plan.total


def by_category(plan: Plan, st: Style) -> list[Sheet]:
    """One row per member and STEP, one amount column per 経費区分, plus うち下請け発注額."""
    sh = Sheet(st.sheet_names[2])
    sh.put(1, 1, "補助対象経費内訳書")
    sh.put(2, 8, "（単位：円）")
    head = ["事業者名", "工程"] + [st.category(c) for c in CATEGORIES] + ["うち下請け発注額", "合計"]
    sh.row(3, 1, head)
    r = 4
    for who, m in enumerate(plan.members):
        for step in range(1, 5):
            rows = [c for c in plan.costs if c.who == who and c.step == step]
            if not rows:
                continue
            per = {cat: sum(c.amount for c in rows if c.category == cat) for cat in CATEGORIES}
            sub = sum(c.amount for c in rows if c.sub)
            sh.row(
                r,
                1,
                [st.name_of(who, m.name), st.step(step)]
                + [_amount(st, per[cat]) if per[cat] else None for cat in CATEGORIES]
                + [_amount(st, sub) if sub else None, _amount(st, sum(per.values()))],
            )
            r += 1
    cats = plan.by_category()
    sub_total = sum(c.amount for c in plan.costs if c.sub)
    sh.row(
        r,
        1,
        ["合計", None]
        + [_amount(st, cats.get(cat, 0)) for cat in CATEGORIES]
        + [_amount(st, sub_total), _amount(st, _stated(plan))],
    )
    return [sh]


def step_blocks(plan: Plan, st: Style) -> list[Sheet]:
    """One block per STEP: its heading, its own header row, its rows and a 小計; no 工程 column."""
    sh = Sheet(st.sheet_names[2])
    sh.put(1, 1, "補助対象経費内訳書")
    r = 3
    for step in range(1, 5):
        sh.put(r, 1, f"【{STEP_NAMES[step]}】")
        sh.row(r + 1, 1, ["No", "事業者名", "経費区分", "内容", "下請け発注", "補助対象経費(円)"])
        r += 2
        rows = [c for c in plan.costs if c.step == step]
        for k, c in enumerate(rows):
            sh.row(
                r,
                1,
                [
                    k + 1,
                    st.name_of(c.who, plan.members[c.who].name),
                    st.category(c.category),
                    c.desc,
                    "○" if c.sub else None,
                    _amount(st, c.amount),
                ],
            )
            r += 1
        sh.row(r, 1, ["小計", None, None, None, None, _amount(st, sum(c.amount for c in rows))])
        r += 2
    sh.row(r, 1, ["合計", None, None, None, None, _amount(st, _stated(plan))])
    _summary(sh, plan, st, r + 2)
    return [sh]


def member_sheets(plan: Plan, st: Style) -> list[Sheet]:
    """One 内訳 sheet per member (its name at the top, no 事業者名 column) and a 集計 sheet."""
    out = []
    for who, m in enumerate(plan.members):
        rows = [c for c in plan.costs if c.who == who]
        if not rows:
            continue
        sh = Sheet(f"経費内訳({len(out) + 1})")
        sh.put(1, 1, "補助対象経費内訳書（事業者別）")
        sh.row(3, 1, ["事業者名", st.name_of(who, m.name)])
        sh.row(5, 1, ["No", "工程", "経費区分", "内容", "下請け発注", "補助対象経費(円)"])
        for k, c in enumerate(rows):
            sh.row(
                6 + k,
                1,
                [
                    k + 1,
                    st.step(c.step),
                    st.category(c.category),
                    c.desc,
                    "○" if c.sub else None,
                    _amount(st, c.amount),
                ],
            )
        sh.row(6 + len(rows), 1, ["小計", None, None, None, None, _amount(st, sum(c.amount for c in rows))])
        out.append(sh)
    summary = Sheet("経費内訳(集計)")
    summary.put(1, 1, "補助対象経費内訳書（集計）")
    for k, sh in enumerate(out):
        who_name = sh.cells[(3, 2)]
        summary.row(3 + k, 1, [who_name, sh.cells[(max(r for r, _ in sh.cells), 6)]])
    summary.row(3 + len(out), 1, ["合計", _amount(st, _stated(plan))])
    _summary(summary, plan, st, 5 + len(out))
    return out + [summary]


def _summary(sh: Sheet, plan: Plan, st: Style, r: int) -> None:
    sh.put(r, 1, "経費区分別集計")
    sh.row(r + 1, 1, ["経費区分", "補助対象経費(円)"])
    cats = plan.by_category()
    for i, cat in enumerate(CATEGORIES):
        sh.row(r + 2 + i, 1, [st.category(cat), _amount(st, cats.get(cat, 0))])
    sh.row(r + 2 + len(CATEGORIES), 1, ["合計", _amount(st, _stated(plan))])


def with_costs(layout: CostLayout, st: Style) -> Callable[[list[Sheet], Any], None]:
    """A post hook replacing the usual 補助対象経費内訳書 sheet with the layout's sheets."""

    def run(sheets: list[Sheet], plan: Plan) -> None:
        at = next(i for i, sh in enumerate(sheets) if sh.title == st.sheet_names[2])
        sheets[at : at + 1] = layout(plan, st)

    return run
