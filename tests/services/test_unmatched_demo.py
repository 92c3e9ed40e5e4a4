"""Held out: on the demo branch, no suggestion for the 天府新区 village address leads to a
grid of another district, whatever rule the queue proposes or the grid's shared piece."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from app.models import Branch, Grid
from app.services.intake.unmatched import InvalidChoice, rule_preview, unmatched_queue

AS_OF = date(2026, 11, 20)
PLACE = "天府新区煎茶街道老龙村"


@pytest.fixture(scope="module")
def demo(module_demo) -> Iterator[sessionmaker]:
    with module_demo(seed=5, as_of=AS_OF) as Session:  # noqa: N806
        yield Session


def test_the_tianfu_village_address_is_never_routed_to_another_district(demo):
    with demo() as s:
        branch_id = s.scalar(select(Branch.id))
        districts = dict(s.execute(select(Grid.id, Grid.district)).all())
        gx006 = s.scalar(select(Grid.id).where(Grid.code == "GX006"))
        rows = [r for r in unmatched_queue(s, branch_id) if PLACE in r.address]
        assert rows, "the demo files the village address in the queue"
        for r in rows:
            for sug in r.suggestions:
                assert districts[sug.grid_id] == "天府新区", (r.address, sug)
            for grid_id in [sug.grid_id for sug in r.suggestions] + [gx006]:
                for text in {r.proposed_rule, "天府", *(x.fragment for x in r.suggestions)}:
                    try:
                        p = rule_preview(s, customer_id=r.customer_id, grid_id=grid_id, text=text)
                    except InvalidChoice:
                        continue
                    assert p.refused or districts[grid_id] == "天府新区", (text, grid_id)
