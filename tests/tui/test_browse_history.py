"""Browse's review history shows what the learner was offered: an unsure grade offered no
quality, so it reads "(unsure)", not the "(suggested 2)" the learner never saw (QA)."""

from __future__ import annotations

from tuihelpers import NOW


def test_an_unsure_grade_reads_unsure_and_a_sure_one_its_suggestion(services) -> None:
    from labdeck.store.browse_query import EVERYTHING
    from labdeck.store.queries import review_history
    from labdeck.tui.screens.browse import CardDetail, Search, detail_markdown, find_rows

    store, scheduler = services.store, services.scheduler()
    today = NOW.date()
    row = find_rows(store, Search(EVERYTHING), today).rows[0]
    scheduler.answer(row.id, 2, answer="a", score=0.58, suggested=2, confidence=0.4, sure=False)
    scheduler.answer(row.id, 4, answer="b", score=0.85, suggested=4, confidence=0.9, sure=True)
    history = review_history(store, row.id)
    assert [h.sure for h in history] == [False, True]
    text = detail_markdown(CardDetail(row, scheduler.card(row.id), history), today)
    assert "0.58 (unsure)" in text and "suggested 2" not in text
    assert "0.85 (suggested 4)" in text
