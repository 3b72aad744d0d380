"""The key-point checklist (issue 13 §2): the review screen and the exam report, driven by Pilot
with a real store and the real grader.

The grader's sure/unsure verdict is set on a real result (``dataclasses.replace``), so each test
holds whatever the real grader would say for its answer.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text
from textual.widgets import Static
from tuihelpers import NOW, review_log, review_rows, screen_text, settle, wait_for

from labdeck.grading.checklist import Ticks, quality_from_ticks
from labdeck.tui.screens.review import AnswerBox, ReviewScreen

SIZE = (120, 36)
SMALL = (80, 24)
ANSWER = (
    "The encoder RNN reads the source tokens and compresses them into a final hidden state, "
    "a fixed context vector. The decoder RNN starts from that vector and generates the output "
    "one token at a time, feeding back its previous token."
)
ANSWER_ZH = (
    "编码器RNN逐个读取源序列的词元，把整个输入压缩成一个固定长度的上下文向量，也就是最后的隐藏"
    "状态。解码器RNN从这个向量出发，一次生成一个输出词元，并把上一步的输出作为下一步的输入。"
)


class Verdict:
    """The real grader, with its sure/unsure verdict set on each real result."""

    def __init__(self, grader, *, sure: bool, confidence: float) -> None:
        self.grader, self.sure, self.confidence = grader, sure, confidence

    def grade(self, *args, **kwargs):
        result = self.grader.grade(*args, **kwargs)
        return dataclasses.replace(result, sure=self.sure, confidence=self.confidence)


def services_with(make_services, grader, *, sure: bool, confidence: float):
    services = make_services()
    services.reset_grader()
    services.grader_factory = lambda _settings: Verdict(grader, sure=sure, confidence=confidence)
    services.load_grader()
    return services


async def graded(pilot, answer: str = ANSWER) -> ReviewScreen:
    """Open Review on the first card, type ``answer`` and grade it."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    await wait_for(pilot, lambda: screen.phase == "answering")
    screen.query_one("#answer", AnswerBox).insert(answer)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
    await settle(pilot)
    assert screen.result is not None and screen.ticks is not None
    return screen


def lit(entry: str, quality: int) -> bool:
    """Whether an interval entry ("3 → 6d", or "0–3 → again today, then 1d") is quality's."""
    qs = entry.split(" → ", 1)[0]
    first, _, last = qs.partition("–")
    return int(first) <= quality <= int(last or first)


def highlighted(screen) -> list[str]:
    """The qualities lit (reverse video) in the next-interval line."""
    line = screen.query_one("#intervals", Static).content
    return [line.plain[s.start : s.end] for s in line.spans if "reverse" in str(s.style)]


def grade_text(screen) -> str:
    return str(screen.query_one("#grade", Static).render())


async def test_sure_enter_accepts_the_suggestion_and_stores_the_checklist(make_services, grader):
    from labdeck.tui.app import LabdeckApp

    services = services_with(make_services, grader, sure=True, confidence=0.91)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await graded(pilot)
        result, card = screen.result, screen.card
        shown = grade_text(screen)
        assert f"suggested quality {result.quality}" in shown
        assert "unsure" not in shown
        for n, point in enumerate(result.key_points, start=1):  # numbered, grader's marks
            mark = "≠" if point.contradicted else ("✓" if point.covered else "✗")
            assert f"{n} {mark} {point.text}" in " ".join(shown.split())  # (points wrap)
        assert screen.offered_quality() == result.quality
        assert lit(highlighted(screen)[0], result.quality)
        await pilot.press("enter")  # one key confirms a correct suggestion
        await wait_for(pilot, lambda: screen.card is not None and screen.card.key != card.key)
        await settle(pilot)
        row = review_log(services.store)
        assert row["card_id"] == card.card_id
        assert row["quality"] == result.quality == row["suggested"]
        assert row["confidence"] == pytest.approx(0.91) and row["sure"] == 1
        assert row["checklist"] == [
            {
                "point": k.text,
                "grader": "contradicted"
                if k.contradicted
                else ("covered" if k.covered else "missed"),
                "ticked": bool(k.covered and not k.contradicted),
            }
            for k in result.key_points
        ]


async def test_sure_a_toggle_puts_the_ticks_on_offer(make_services, grader):
    from labdeck.tui.app import LabdeckApp

    services = services_with(make_services, grader, sure=True, confidence=0.9)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await graded(pilot)
        ticks = screen.ticks
        missed = [i for i, t in enumerate(ticks.ticked) if not t]
        assert missed, "the answer leaves out at least one key point"
        n = missed[0] + 1
        await pilot.press(str(n))  # one key per point corrected
        implied = quality_from_ticks(
            [t or i == missed[0] for i, t in enumerate(ticks.start)],
            [v == "contradicted" for v in ticks.verdicts],
        )
        # one more point ticked: the table's figure, never below the sure suggestion
        expected = max(implied, screen.result.quality)
        assert screen.offered_quality() == expected
        assert f"ticks imply {expected}" in grade_text(screen)
        await pilot.press(str(n), str(n))  # untick, tick again: the live figure follows
        assert screen.offered_quality() == expected
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.phase == "answering")
        await settle(pilot)
        row = review_log(services.store)
        assert row["quality"] == expected
        assert row["checklist"][missed[0]]["ticked"] is True
        assert row["checklist"][missed[0]]["grader"] != "covered"


async def test_unsure_nothing_is_preselected_ticks_decide(make_services, grader):
    from labdeck.tui.app import LabdeckApp

    services = services_with(make_services, grader, sure=False, confidence=0.3)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await graded(pilot)
        result, ticks = screen.result, screen.ticks
        on_screen = screen_text(app)
        assert "unsure — tick what you covered" in on_screen
        assert f"suggested quality {result.quality}" not in on_screen
        assert screen.offered_quality() is None  # nothing pre-selected as the rating
        assert not highlighted(screen)  # no quality lit in the interval line either
        for digit in "012345":  # bare digits are ticks here, never a rating
            if digit != "0" and int(digit) <= len(ticks):
                continue
            await pilot.press(digit)
        assert review_rows(services.store) == []
        # tick every point the grader missed, untick the first one it found
        start = list(ticks.start)
        keys = [str(i + 1) for i, t in enumerate(start) if not t]
        covered = [i for i, t in enumerate(start) if t]
        if covered:
            keys.append(str(covered[0] + 1))
        await pilot.press(*keys)
        expected_ticks = [True] * len(start)
        if covered:
            expected_ticks[covered[0]] = False
        expected = quality_from_ticks(expected_ticks, [v == "contradicted" for v in ticks.verdicts])
        assert screen.ticks.ticked == expected_ticks
        assert screen.offered_quality() == expected
        assert f"ticks imply {expected}" in grade_text(screen)
        assert lit(highlighted(screen)[0], expected)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.phase == "answering")
        await settle(pilot)
        row = review_log(services.store)
        assert row["quality"] == expected and row["suggested"] == result.quality
        assert row["sure"] == 0 and row["confidence"] == pytest.approx(0.3)
        assert [r["ticked"] for r in row["checklist"]] == expected_ticks
        assert [r["point"] for r in row["checklist"]] == [k.text for k in result.key_points]


async def test_unsure_enter_twice_keeps_the_graders_ticks(make_services, grader):
    from labdeck.tui.app import LabdeckApp

    services = services_with(make_services, grader, sure=False, confidence=0.2)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await graded(pilot)
        implied = screen.ticks.quality()
        await pilot.press("enter")  # confirms the grader's ticks: now they are on offer
        await settle(pilot)
        assert review_rows(services.store) == []
        assert screen.offered_quality() == implied
        assert f"ticks imply {implied}" in grade_text(screen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.phase == "answering")
        await settle(pilot)
        row = review_log(services.store)
        assert row["quality"] == implied and row["sure"] == 0


async def test_equals_then_digit_rates_directly_with_a_checklist(make_services, grader):
    from labdeck.tui.app import LabdeckApp

    services = services_with(make_services, grader, sure=False, confidence=0.3)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await graded(pilot)
        await pilot.press("equals_sign", "escape")  # esc cancels the prefix, stays put
        assert isinstance(app.screen, ReviewScreen) and screen.phase == "rating"
        await pilot.press("2")  # a tick again
        assert screen.ticks.changed
        await pilot.press("equals_sign", "5")
        await wait_for(pilot, lambda: screen.phase == "answering")
        await settle(pilot)
        row = review_log(services.store)
        assert row["quality"] == 5
        assert row["checklist"][1]["ticked"] != (row["checklist"][1]["grader"] == "covered")


async def test_chinese_answer_at_80x24_checklist_in_view(make_services, grader):
    from labdeck.tui.app import LabdeckApp

    services = services_with(make_services, grader, sure=False, confidence=0.3)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SMALL) as pilot:
        screen = await graded(pilot, ANSWER_ZH)
        result = screen.result
        assert result.language.startswith("zh")
        first = screen_text(app)
        assert "unsure — tick what you covered" in first
        assert "1 " in first and result.key_points[0].text[:30] in first
        assert any("\u4e00" <= ch <= "\u9fff" for ch in first)  # the Chinese span is shown
        lines = [line for line in first.splitlines() if line.strip()]
        assert all(len(line) <= 80 for line in lines)
        seen = first
        for _ in range(12):  # the rest of the checklist is a scroll away, by keyboard alone
            await pilot.press("down")
            await pilot.pause()
            seen += screen_text(app)
        for n, point in enumerate(result.key_points, start=1):
            assert point.text[:30] in seen, (n, point.text)
        await pilot.press("1", "enter")
        await wait_for(pilot, lambda: screen.phase == "answering")
        await settle(pilot)
        row = review_log(services.store)
        assert row["answer"] == ANSWER_ZH
        assert row["checklist"][0]["ticked"] != (row["checklist"][0]["grader"] == "covered")


async def test_the_question_stays_in_sight_while_the_feedback_is_read_at_80x24(
    make_services, grader
):
    """QA at 80×24: after grading, the checklist scrolled the question out of view. The
    status line says the question's start while the prompt is scrolled off, and the card's
    chapter and key again once it is back."""
    from labdeck.tui.app import LabdeckApp

    services = services_with(make_services, grader, sure=True, confidence=0.9)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SMALL) as pilot:
        screen = await graded(pilot)
        card = screen.card
        status = screen.query_one("#review-status", Static)
        prompt = screen.query_one("#prompt")
        body = screen.query_one("#review-body")
        assert body.scroll_y >= prompt.virtual_region.bottom  # the checklist is in view
        line = str(status.render())
        assert line.split("0   Q ", 1)[1].startswith("Describe the basic RNN encoder"), line
        assert len(line) <= 80 and line.endswith("…"), line
        body.scroll_home(animate=False, immediate=True)
        await settle(pilot)
        assert "Describe the basic RNN" in screen_text(app).split("\n", 3)[2]
        line = str(status.render())
        assert card.key in line and "Q " not in line, line
        body.scroll_end(animate=False, immediate=True)
        await pilot.press("enter")  # the next card starts with its own key in the status line
        await wait_for(pilot, lambda: screen.phase == "answering" and screen.card is not card)
        await settle(pilot)
        assert screen.card.key in str(status.render())


async def test_w_after_grading_edits_the_answer_and_grades_it_again(make_services, grader):
    """QA: after grading, `u` undid the previous card's review; nothing took the learner back
    to fix a slip in the answer just graded. `w` does: the box opens with the answer, the
    grade is dropped, nothing is recorded, and ctrl+s grades the edited answer."""
    from labdeck.tui.app import LabdeckApp

    services = services_with(make_services, grader, sure=True, confidence=0.9)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SMALL) as pilot:
        screen = await graded(pilot, "The encoder RNN compresses the source.")
        card, first = screen.card, screen.result
        keys = str(screen.query_one("#review-keys", Static).render())
        assert "w edit · u undo · esc back" in keys and len(keys) <= 78, keys
        await pilot.press("w")
        await settle(pilot)
        box = screen.query_one("#answer", AnswerBox)
        assert screen.phase == "answering" and box.has_focus and not box.read_only
        assert box.text == "The encoder RNN compresses the source."
        assert not screen.query_one("#grade").display and screen.result is None
        assert screen.card is card and review_rows(services.store) == []
        await pilot.press("end", *" The decoder RNN generates the output one token at a time.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.phase == "rating", timeout=60)
        assert screen.result is not None and screen.result.score > first.score
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(review_rows(services.store)) == 1)
        assert review_log(services.store)["answer"].endswith("one token at a time.")


# ---------------------------------------------------------------- exam report


def _graded_exam(store, grader, n: int, answer: str) -> int:
    """An exam on B2 (seed 4) with ``answer`` to its first question, submitted and graded."""
    from labdeck.exam.compose import ExamSpec, create_exam
    from labdeck.exam.grade import grade_exam
    from labdeck.exam.session import ExamSession

    exam_id = create_exam(store, ExamSpec(chapters=["B2"], n=n, seed=4), now=lambda: NOW).exam_id
    session = ExamSession(store, exam_id, clock=lambda: NOW)
    session.start()
    session.set_answer(answer)
    session.submit()
    grade_exam(store, exam_id, grader, now=lambda: NOW)
    return exam_id


async def test_exam_report_ticks_override_the_quality_and_are_stored(make_services, grader):
    from labdeck.tui.screens.exam import ExamContext, ExamReportScreen

    services = make_services()
    store = services.store

    def fixed_now():
        return NOW

    exam_id = _graded_exam(
        store, grader, 2, "Queries are compared with keys by dot products, scaled, softmaxed."
    )

    from labdeck.tui.app import LabdeckApp

    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(
            ExamReportScreen(ExamContext(store, lambda: grader, clock=fixed_now), exam_id)
        )
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExamReportScreen)
        q = screen.report.questions[0]
        ticks = screen.ticks_of(q)
        assert isinstance(ticks, Ticks) and q.override_quality is None
        detail = str(screen.query_one("#detail-points", Static).render())
        assert f"1 {'✓' if ticks.start[0] else '✗'}" in detail or "1 ≠" in detail
        missed = [i for i, t in enumerate(ticks.start) if not t]
        keys = [str(i + 1) for i in missed[:2]]
        await pilot.press(*keys)
        await settle(pilot)
        expected_ticks = [t or i in missed[:2] for i, t in enumerate(ticks.start)]
        implied = quality_from_ticks(expected_ticks, [v == "contradicted" for v in ticks.verdicts])
        q = screen.report.questions[0]
        expected = max(implied, q.auto_quality)  # more ticked: never below the grader's grade
        assert q.override_quality == expected
        assert [r["ticked"] for r in q.checklist] == expected_ticks
        assert f"your ticks imply {expected}" in str(
            screen.query_one("#detail-points", Static).render()
        )
        with store.engine.connect() as conn:
            stored_q, stored_c = conn.execute(
                text(
                    "SELECT override_quality, checklist FROM exam_question "
                    "WHERE exam_id = :e AND position = 1"
                ),
                {"e": exam_id},
            ).one()
        import json

        assert stored_q == expected
        assert [r["ticked"] for r in json.loads(stored_c)] == expected_ticks
        # = then a digit grades directly (and drops the ticks); x clears everything
        await pilot.press("equals_sign", "2")
        await settle(pilot)
        assert screen.report.questions[0].override_quality == 2
        assert screen.report.questions[0].checklist is None
        await pilot.press("x")
        await settle(pilot)
        assert screen.report.questions[0].override_quality is None
        # the blank second question has no checklist: a bare digit grades it
        await pilot.press("down", "4")
        await settle(pilot)
        assert screen.report.questions[1].override_quality == 4


# ---------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("labdeck.tui.screens.review", "ReviewScreen"),
        ("labdeck.tui.screens.exam", "ExamReportScreen"),
    ],
)
def test_one_binding_per_key(module, name):
    import importlib

    from textual.binding import Binding

    screen = getattr(importlib.import_module(module), name)
    keys = [k.strip() for b in screen.BINDINGS if isinstance(b, Binding) for k in b.key.split(",")]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert {str(d) for d in range(10)} | {"equals_sign", "enter"} <= set(keys)


def test_help_lists_the_checklist_keys():
    from labdeck.tui.screens.help import GRADING, screen_keys

    panels = dict(screen_keys())
    for title in ("Review", "Exam report"):
        rows = dict(panels[title])
        assert rows["="] == "Rate 0–5"
        assert "tick key point" in rows["0–9"]
    assert "unsure — tick what you covered" in GRADING and "ticks imply" in GRADING


async def test_the_checklist_is_wrapped_to_the_grade_panel_at_80x24(make_services, grader):
    """Each row is wrapped by the checklist itself, to the panel's own text width, so a long
    point goes on under its text: wrapped wider (the screen's width less a guess, or the
    interval line's width once a point was ticked) the panel cut its longest rows again, under
    their number."""
    from rich.cells import cell_len

    from labdeck.tui.app import LabdeckApp

    services = services_with(make_services, grader, sure=True, confidence=0.9)
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=SMALL) as pilot:
        screen = await graded(pilot)
        panel = screen.query_one("#grade", Static)
        for step in ("graded", "ticked"):
            width = panel.content_region.width
            rows = panel.content.plain.split("\n")
            assert max(map(cell_len, rows)) <= width, (step, width, rows)
            assert max(map(cell_len, rows)) > width - 12, (step, width)  # (wrapped, not short)
            await pilot.press("1")
            await settle(pilot)


async def test_exam_report_enter_on_the_graders_ticks_records_the_graders_grade(
    make_services, grader
):
    """The walkthrough: the table said `pass 3`, the detail `enter records these ticks as
    quality 2` (the share ticked, by the table alone): Enter must record what the row shows."""
    from labdeck.tui.app import LabdeckApp
    from labdeck.tui.screens.exam import ExamContext, ExamReportScreen

    services = make_services()
    store = services.store

    def fixed_now():
        return NOW

    exam_id = _graded_exam(
        store, grader, 1, "Softmax of scaled dot products of queries and keys weights the values."
    )
    app = LabdeckApp(services, load_grader=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(
            ExamReportScreen(ExamContext(store, lambda: grader, clock=fixed_now), exam_id)
        )
        await settle(pilot)
        screen = app.screen
        q = screen.report.questions[0]
        ticks = screen.ticks_of(q)
        assert ticks is not None and q.auto_quality is not None
        assert ticks.quality() != q.auto_quality  # the case: score and share ticked differ
        detail = str(screen.query_one("#detail-points", Static).render())
        assert f"enter records the grader's {q.auto_quality} with these ticks" in detail
        # a tick is saved at once (QA read "enter record ticks" as needed for it): said so
        assert "each tick is saved as your grade" in " ".join(detail.split())
        assert "1–9 tick (saved)" in str(screen.query_one("#report-keys", Static).render())
        await pilot.press("enter")
        await settle(pilot)
        assert screen.report.questions[0].override_quality == q.auto_quality
        # the ticks just recorded are shown under their heading (it scrolled out of view)
        await pilot.press("1")
        await settle(pilot)
        detail = screen.query_one("#report-detail")
        heading = screen.query_one("#detail-points-heading")
        assert detail.scroll_y > 0 and detail.scroll_y <= heading.virtual_region.y


def test_revealed_key_points_wrap_under_their_own_text() -> None:
    """The reveal panel's key points continued at the panel's left edge, under the bullets,
    where the checklist's rows continue under their text (tmux at 80×24)."""
    from labdeck.tui.screens.review import grade_text

    point = (
        "The seq2seq encoder RNN compresses the whole source sequence into one fixed-size vector."
    )
    text = grade_text([point, "Short point."], None, None, False, None, 40)
    lines = text.plain.splitlines()
    start = lines.index("Key points:") + 1
    bullets = lines[start:]
    assert bullets[0].startswith(" • The seq2seq")
    assert len(bullets) >= 3 and all(line.startswith("   ") for line in bullets[1:-1])
    assert bullets[-1] == " • Short point."
    assert " ".join(part.strip(" •") for part in bullets[:-1]) == point
