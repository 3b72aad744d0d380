"""Sitting an exam: one question at a time, a clock, autosave, resume after a crash.

Time is measured with an injected clock and only while a session is running: ``start()``
resumes the clock, every ``save()`` books the time since the last checkpoint to the exam and to
the question on screen, and ``pause()`` stops it. A crash loses at most the time and text since
the last save, so a new ``ExamSession`` on the same exam resumes the same answers and the same
remaining time. ``tick()`` submits what is there once the time is up.

The TUI edits answers on the UI thread and saves from a worker thread; state is guarded by a
lock and database writes are serialised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from labdeck import clock as clock_mod
from labdeck.exam import ExamError
from labdeck.exam.rows import exam_rows
from labdeck.store import Store
from labdeck.store.models import Card, Exam, ExamQuestion


@dataclass
class QuestionView:
    position: int  # 1-based, as shown to the learner and used by the CLI
    row_id: int
    card_id: int
    key: str
    deck: str
    chapter: str
    chapter_title: str
    prompt: str
    prompt_zh: str | None
    self_graded: bool
    answer: str
    time_spent_s: float
    marked: bool
    kind: str = "essay"  # a drill's prompt carries its options and how to answer

    @property
    def answered(self) -> bool:
        return bool(self.answer.strip())


_HOW_TO_ANSWER = {
    "cloze": "Type the missing text.",
    "choice": "Type the letter(s) of your choice.",
    "truefalse": "Type true or false.",
}


def _question_text(card: Card, seed: int) -> str:
    """An essay's prompt; a drill's prompt with its options in this exam's order."""
    if card.kind == "essay" or card.drill is None:
        return card.prompt
    from labdeck.drills.present import show

    lines = show(card.key, card.kind, card.prompt, card.drill, seed).lines()
    return "\n".join([*lines, _HOW_TO_ANSWER.get(card.kind, "")]).strip()


def load_questions(store: Store, exam_id: int) -> tuple[Exam, list[QuestionView]]:
    with store.session() as s:
        exam, rows = exam_rows(s, exam_id)
        views = [
            QuestionView(
                position=q.position,
                row_id=q.id or 0,
                card_id=q.card_id,
                key=card.key,
                deck=deck.key,
                chapter=chapter.code,
                chapter_title=chapter.title,
                prompt=_question_text(card, exam.seed),
                prompt_zh=card.prompt_zh,
                self_graded=q.self_graded,
                answer=q.answer,
                time_spent_s=q.time_spent_s,
                marked=bool((q.feedback or {}).get("marked")),
                kind=card.kind,
            )
            for q, card, chapter, deck in rows
        ]
    return exam, views


class ExamSession:
    """A running sitting of one stored exam."""

    def __init__(
        self, store: Store, exam_id: int, *, clock: Callable[[], datetime] = clock_mod.now
    ) -> None:
        self.store = store
        self.exam_id = exam_id
        self.clock = clock
        exam, self.questions = load_questions(store, exam_id)
        if not self.questions:
            raise ExamError(f"exam {exam_id} has no questions")
        self.status = exam.status
        self.time_limit_s = exam.time_limit_s
        self.scope_label = str((exam.scope or {}).get("label", ""))
        self._elapsed = float(exam.elapsed_s)
        self._index = min(max(0, exam.current), len(self.questions) - 1)
        self._running_since: datetime | None = None
        self._started_at = exam.started_at
        self._dirty: set[int] = set()
        self._meta_dirty = False
        self._lock = threading.RLock()
        self._io_lock = threading.Lock()

    # ------------------------------------------------------------ reading

    @property
    def n(self) -> int:
        return len(self.questions)

    @property
    def index(self) -> int:
        """0-based index of the question on screen."""
        return self._index

    @property
    def current(self) -> QuestionView:
        return self.questions[self._index]

    @property
    def running(self) -> bool:
        return self._running_since is not None

    @property
    def timed(self) -> bool:
        return self.time_limit_s > 0

    def elapsed_s(self) -> float:
        with self._lock:
            extra = 0.0
            if self._running_since is not None:
                extra = max(0.0, (self.clock() - self._running_since).total_seconds())
            total = self._elapsed + extra
            return min(total, float(self.time_limit_s)) if self.timed else total

    def remaining_s(self) -> float | None:
        """Seconds left, or ``None`` for an untimed exam."""
        if not self.timed:
            return None
        return max(0.0, self.time_limit_s - self.elapsed_s())

    @property
    def expired(self) -> bool:
        remaining = self.remaining_s()
        return remaining is not None and remaining <= 0

    def answered_count(self) -> int:
        return sum(1 for q in self.questions if q.answered)

    # ------------------------------------------------------------ clock

    def _require_sitting(self) -> None:
        if self.status != "sitting":
            raise ExamError(f"exam {self.exam_id} is already {self.status}")

    def _checkpoint(self) -> None:
        """Book the time since the last checkpoint to the exam and the current question."""
        if self._running_since is None:
            return
        now = self.clock()
        delta = max(0.0, (now - self._running_since).total_seconds())
        if self.timed:
            delta = min(delta, max(0.0, self.time_limit_s - self._elapsed))
        self._running_since = now
        if delta > 0:
            self._elapsed += delta
            self.current.time_spent_s += delta
            self._dirty.add(self._index)
            self._meta_dirty = True

    def start(self) -> bool:
        """Start or resume the clock. Returns False (and submits) when time is already up."""
        self._require_sitting()
        with self._lock:
            if self._running_since is None:
                self._running_since = self.clock()
            if self._started_at is None:
                self._started_at = self._running_since
                self._meta_dirty = True
        self.save()
        if self.expired:
            self.submit()
            return False
        return True

    def pause(self) -> None:
        """Save and stop the clock (quitting the screen); ``start()`` resumes."""
        if self.status != "sitting":
            return
        self.save()
        with self._lock:
            self._running_since = None

    def tick(self) -> bool:
        """Call periodically: submits and returns True once the time is up."""
        if self.status == "sitting" and self.running and self.expired:
            self.submit()
            return True
        return False

    # ------------------------------------------------------------ moving, answering

    def goto(self, index: int) -> QuestionView:
        self._require_sitting()
        with self._lock:
            index = min(max(0, index), self.n - 1)
            if index != self._index:
                self._checkpoint()
                self._index = index
                self._meta_dirty = True
            return self.current

    def next(self) -> QuestionView:
        return self.goto(self._index + 1)

    def previous(self) -> QuestionView:
        return self.goto(self._index - 1)

    def set_answer(self, text: str) -> None:
        """Record the text typed for the current question (saved by the next ``save()``);
        control, bidi and zero-width characters are dropped (``ingest.common.clean_text``)."""
        from labdeck.textfmt import clean_text

        text = clean_text(text)
        self._require_sitting()
        with self._lock:
            q = self.current
            if q.answer == text:
                return
            q.answer = text
            if q.marked and text.strip():
                q.marked = False  # the learner came back to it
            self._dirty.add(self._index)

    def skip(self) -> QuestionView:
        """Mark the current question to come back to and move on."""
        self._require_sitting()
        with self._lock:
            here = self._index
            self.current.marked = True
            self._dirty.add(here)
            if here + 1 < self.n:
                return self.goto(here + 1)
            for i, q in enumerate(self.questions):
                if i != here and (q.marked or not q.answered):
                    return self.goto(i)
            return self.current

    # ------------------------------------------------------------ persistence

    def save(self) -> None:
        """Persist answers, times, position and elapsed time in one transaction."""
        with self._io_lock:
            with self._lock:
                self._checkpoint()
                dirty = sorted(self._dirty)
                rows = [
                    (
                        self.questions[i].row_id,
                        self.questions[i].answer,
                        self.questions[i].time_spent_s,
                        self.questions[i].marked,
                    )
                    for i in dirty
                ]
                meta = self._meta_dirty
                state = (self._index, self._elapsed, self._started_at)
                self._dirty.clear()
                self._meta_dirty = False
            if not rows and not meta:
                return
            try:
                with self.store.session() as s:
                    for row_id, answer, spent, marked in rows:
                        q = s.get(ExamQuestion, row_id)
                        if q is None:
                            continue
                        q.answer = answer
                        q.time_spent_s = round(spent, 3)
                        feedback = dict(q.feedback or {})
                        feedback["marked"] = marked
                        q.feedback = feedback
                        s.add(q)
                    exam = s.get(Exam, self.exam_id)
                    if exam is not None:
                        exam.current = state[0]
                        exam.elapsed_s = round(state[1], 3)
                        exam.started_at = state[2]
                        s.add(exam)
            except Exception:
                with self._lock:
                    self._dirty.update(dirty)
                    self._meta_dirty = self._meta_dirty or meta
                raise

    def submit(self) -> None:
        """Save and hand the exam in (status ``submitted``); grading is separate."""
        if self.status != "sitting":
            return
        self.save()
        with self._lock:
            self._running_since = None
            self.status = "submitted"
        with self._io_lock, self.store.session() as s:
            exam = s.get(Exam, self.exam_id)
            if exam is not None and exam.status == "sitting":
                exam.status = "submitted"
                exam.submitted_at = self.clock()
                s.add(exam)


def sitting_exams(store: Store) -> list[int]:
    """Ids of exams still being sat (most recent first) — offered for resuming."""
    with store.session() as s:
        return [
            e.id
            for e in s.exec(
                select(Exam).where(Exam.status == "sitting").order_by(col(Exam.id).desc())
            ).all()
            if e.id is not None
        ]
