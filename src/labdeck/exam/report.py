"""The exam report: total, per-question verdicts with reference answers, per-chapter breakdown.

Read-only over the store: ``build_report`` assembles plain dataclasses that the CLI prints (text
or JSON), the TUI renders and ``to_markdown`` exports. ``refresh_result`` recomputes the stored
summary (``Exam.score`` and ``Exam.result``) after grading or an override.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from labdeck.exam.rows import exam_rows
from labdeck.store import Store
from labdeck.store.models import Exam

QUALITY_WORDS = {
    0: "no credit",
    1: "wrong",
    2: "weak",
    3: "pass",
    4: "good",
    5: "perfect",
}
PASS_QUALITY = 3


def _clean(text: str | None) -> str:
    from labdeck.textfmt import clean_text

    return clean_text(text or "")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_score(score: float | None) -> str:
    return "–" if score is None else f"{round(score * 100)}%"


@dataclass
class QuestionReport:
    position: int
    key: str
    deck: str
    chapter: str
    chapter_title: str
    prompt: str
    answer: str
    reference: str | None
    self_graded: bool
    marked: bool
    time_s: float
    auto_score: float | None
    auto_quality: int | None
    override_quality: int | None
    key_points_covered: list[str] = field(default_factory=list)
    key_points_missed: list[str] = field(default_factory=list)
    applied: bool = False
    # the grader's per-point verdicts ({"text", "covered", "contradicted", "span", ...}) and
    # the learner's ticks (``labdeck.grading.checklist.StoredTick`` rows) when they made some
    key_points: list[dict[str, Any]] = field(default_factory=list)
    checklist: list[dict[str, Any]] | None = None
    # a drill question's exact check (``labdeck.drills.grade.DrillResult.to_dict`` and more)
    drill: dict[str, Any] | None = None
    # the grader was unsure of its grade (review would have asked for ticks): worth a check
    unsure: bool = False

    @property
    def answered(self) -> bool:
        return bool(self.answer.strip())

    def missed_points(self) -> list[str]:
        """The key points not covered: by the learner's ticks when they made some (what the
        report screen shows), else by the grader's verdicts."""
        if self.checklist:
            return [str(row.get("point", "")) for row in self.checklist if not row.get("ticked")]
        return list(self.key_points_missed)

    @property
    def quality(self) -> int | None:
        """The final quality: the learner's override, else the grader's suggestion."""
        return self.override_quality if self.override_quality is not None else self.auto_quality

    @property
    def score(self) -> float | None:
        """The question's mark 0–1: its final quality / 5, whoever gave it.

        One scale for every row: the grader's similarity (``auto_score``) is a signal on
        another scale (a pass can read 48 %), so a mark made from it beside an own grade made
        from quality / 5 would rank the two differently for the same quality."""
        q = self.quality
        return None if q is None else q / 5

    @property
    def verdict(self) -> str:
        q = self.quality
        if q is None:
            return "self-grade" if self.answered else "blank"
        if q == 0 and not self.answered:
            return "blank"
        return QUALITY_WORDS.get(q, str(q))

    @property
    def passed(self) -> bool | None:
        q = self.quality
        return None if q is None else q >= PASS_QUALITY

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            quality=self.quality,
            score=None if self.score is None else round(self.score, 4),
            verdict=self.verdict,
            answered=self.answered,
            overridden=self.override_quality is not None,
            covered=data.pop("key_points_covered"),
            missed=data.pop("key_points_missed"),
        )
        return data


@dataclass
class ChapterReport:
    code: str
    title: str
    deck: str
    questions: int
    answered: int
    graded: int
    score: float | None
    quality: float | None
    time_s: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = None if self.score is None else round(self.score, 4)
        data["quality"] = None if self.quality is None else round(self.quality, 2)
        data["time_s"] = round(self.time_s, 1)
        return data


@dataclass
class ExamReport:
    exam_id: int
    created_at: datetime
    status: str
    scope_label: str
    seed: int
    time_limit_s: int
    elapsed_s: float
    applied: bool
    model_id: str | None
    questions: list[QuestionReport]
    chapters: list[ChapterReport]

    @property
    def n(self) -> int:
        return len(self.questions)

    @property
    def answered(self) -> int:
        return sum(q.answered for q in self.questions)

    @property
    def pending(self) -> int:
        """Questions still waiting for the learner's own grade (no reference answer)."""
        return sum(1 for q in self.questions if q.score is None)

    @property
    def score(self) -> float | None:
        """Mean final score over the graded questions (blank answers count as 0)."""
        scores = [q.score for q in self.questions if q.score is not None]
        return sum(scores) / len(scores) if scores else None

    @property
    def passed(self) -> int:
        return sum(1 for q in self.questions if q.passed)

    def summary(self) -> dict[str, Any]:
        """What ``Exam.result`` stores: enough for history and trends without a rebuild."""
        return {
            "score": None if self.score is None else round(self.score, 4),
            "n": self.n,
            "answered": self.answered,
            "passed": self.passed,
            "pending": self.pending,
            "model_id": self.model_id,
            "chapters": {
                c.code: {
                    "score": None if c.score is None else round(c.score, 4),
                    "questions": c.questions,
                    "deck": c.deck,
                }
                for c in self.chapters
            },
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "exam_id": self.exam_id,
            "created_at": self.created_at.isoformat(),
            "status": self.status,
            "scope": self.scope_label,
            "seed": self.seed,
            "time_limit_s": self.time_limit_s,
            "elapsed_s": round(self.elapsed_s, 1),
            "applied": self.applied,
            "model_id": self.model_id,
            "total_score": None if self.score is None else round(self.score, 4),
            "questions_total": self.n,
            "answered": self.answered,
            "passed": self.passed,
            "pending_self_grade": self.pending,
            "questions": [q.to_dict() for q in self.questions],
            "chapters": [c.to_dict() for c in self.chapters],
        }

    # ------------------------------------------------------------ text

    def headline(self) -> str:
        limit = f" of {fmt_duration(self.time_limit_s)}" if self.time_limit_s else ""
        parts = [
            f"Exam {self.exam_id} · {self.scope_label}",
            f"score {fmt_score(self.score)}",
            f"{self.passed}/{self.n} passed",
            f"{self.answered}/{self.n} answered",
            f"time {fmt_duration(self.elapsed_s)}{limit}",
        ]
        if self.pending:
            parts.append(f"{self.pending} to self-grade")
        if self.applied:
            parts.append("applied to schedule")
        return " · ".join(parts)

    def to_text(self, *, references: bool = False) -> str:
        lines = [self.headline(), ""]
        for q in self.questions:
            quality = "–" if q.quality is None else str(q.quality)
            mark = "*" if q.override_quality is not None else " "
            lines.append(
                f"{q.position:>3}. {q.chapter:<4} {q.key:<22} {q.verdict:<10} "
                f"q {quality}{mark} score {fmt_score(q.score):>4}  {fmt_duration(q.time_s)}"
            )
            missed = q.missed_points()
            if missed:
                label = "missed (your ticks)" if q.checklist else "missed"
                lines.append(f"       {label}: {'; '.join(missed)}")
            if references and q.reference:
                lines.append(f"       reference: {' '.join(q.reference.split())}")
        lines += ["", "Per chapter:"]
        for c in self.chapters:
            lines.append(
                f"  {c.code:<4} {fmt_score(c.score):>4}  {c.answered}/{c.questions} answered  "
                f"{fmt_duration(c.time_s)}  {c.title}"
            )
        if any(q.override_quality is not None for q in self.questions):
            lines.append("(* = your own grade)")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        limit = f" of {fmt_duration(self.time_limit_s)}" if self.time_limit_s else " (untimed)"
        out = [
            f"# Mock exam {self.exam_id} — {self.scope_label}",
            "",
            f"- **Date:** {self.created_at.astimezone():%Y-%m-%d %H:%M}",
            f"- **Score:** {fmt_score(self.score)} ({self.passed}/{self.n} passed, "
            f"{self.answered}/{self.n} answered)",
            f"- **Time:** {fmt_duration(self.elapsed_s)}{limit}",
            f"- **Seed:** {self.seed}",
            f"- **Applied to schedule:** {'yes' if self.applied else 'no'}",
        ]
        if self.pending:
            out.append(f"- **Awaiting your own grade:** {self.pending}")
        if self.model_id:
            out.append(f"- **Grader model:** {self.model_id}")
        out += [
            "",
            "## Per chapter",
            "",
            "| Chapter | Title | Questions | Answered | Score | Mean quality | Time |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for c in self.chapters:
            quality = "–" if c.quality is None else f"{c.quality:.1f}"
            out.append(
                f"| {c.code} | {_md_cell(c.title)} | {c.questions} | {c.answered} | "
                f"{fmt_score(c.score)} | {quality} | {fmt_duration(c.time_s)} |"
            )
        out += [
            "",
            "## Questions",
            "",
            "| # | Chapter | Card | Verdict | Quality | Score | Time |",
            "|---:|---|---|---|---:|---:|---:|",
        ]
        for q in self.questions:
            quality = "–" if q.quality is None else str(q.quality)
            if q.override_quality is not None:
                quality += " (own)"
            out.append(
                f"| {q.position} | {q.chapter} | `{q.key}` | {q.verdict} | {quality} | "
                f"{fmt_score(q.score)} | {fmt_duration(q.time_s)} |"
            )
        for q in self.questions:
            quality = "not graded" if q.quality is None else f"quality {q.quality}/5"
            if q.override_quality is not None and q.auto_quality is not None:
                quality += f" (grader suggested {q.auto_quality})"
            elif q.unsure:
                quality += " (grader unsure: check it)"
            out += [
                "",
                f"### {q.position}. {q.chapter} · {q.verdict} · {quality} · "
                f"{fmt_duration(q.time_s)}",
                "",
                f"*{q.key}*",
                "",
                _md_quote(q.prompt),
                "",
                "**Your answer**",
                "",
                _md_quote(q.answer) if q.answered else "_(blank)_",
                "",
            ]
            if q.reference:
                out += ["**Reference answer**", "", _clean(q.reference).strip(), ""]
            else:
                out += ["_No reference answer: self-graded._", ""]
            if q.checklist:
                out.append("**Key points** (your ticks)")
                out.append("")
                out += [
                    f"- [{'x' if row.get('ticked') else ' '}] {_md_line(str(row.get('point')))}"
                    for row in q.checklist
                ]
            elif q.key_points_covered or q.key_points_missed:
                out.append("**Key points**")
                out.append("")
                out += [f"- [x] {_md_line(k)}" for k in q.key_points_covered]
                out += [f"- [ ] {_md_line(k)}" for k in q.key_points_missed]
        return "\n".join(out).rstrip() + "\n"


def _md_cell(text: str) -> str:
    return _clean(text).replace("|", "\\|").replace("\n", " ")


def _md_line(text: str) -> str:
    return " ".join(_clean(text).split())


def _md_quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in _clean(text).strip().splitlines()) or ">"


# ---------------------------------------------------------------- building


def _load(session: Session, exam_id: int) -> ExamReport:
    exam, rows = exam_rows(session, exam_id)
    questions = []
    model_id = None
    for q, card, chapter, deck in rows:
        fb = q.feedback or {}
        model_id = model_id or fb.get("model_id")
        questions.append(
            QuestionReport(
                position=q.position,
                key=card.key,
                deck=deck.key,
                chapter=chapter.code,
                chapter_title=chapter.title,
                prompt=card.prompt,
                answer=q.answer,
                reference=fb.get("reference", card.answer),
                self_graded=q.self_graded,
                marked=bool(fb.get("marked")),
                time_s=q.time_spent_s,
                auto_score=q.auto_score,
                auto_quality=q.auto_quality,
                override_quality=q.override_quality,
                key_points_covered=list(fb.get("covered", [])),
                key_points_missed=list(fb.get("missed", [])),
                applied=bool(q.applied or fb.get("applied")),
                key_points=[p for p in fb.get("key_points", []) if isinstance(p, dict)],
                checklist=q.checklist,
                drill=fb.get("drill") if isinstance(fb.get("drill"), dict) else None,
                unsure=fb.get("sure") is False,
            )
        )
    chapters: dict[str, list[QuestionReport]] = {}
    for question in questions:
        chapters.setdefault(question.chapter, []).append(question)
    chapter_reports = []
    for code, qs in chapters.items():
        scores = [q.score for q in qs if q.score is not None]
        qualities = [q.quality for q in qs if q.quality is not None]
        chapter_reports.append(
            ChapterReport(
                code=code,
                title=qs[0].chapter_title,
                deck=qs[0].deck,
                questions=len(qs),
                answered=sum(q.answered for q in qs),
                graded=len(scores),
                score=sum(scores) / len(scores) if scores else None,
                quality=sum(qualities) / len(qualities) if qualities else None,
                time_s=sum(q.time_s for q in qs),
            )
        )
    return ExamReport(
        exam_id=exam.id or exam_id,
        created_at=exam.created_at,
        status=exam.status,
        scope_label=str((exam.scope or {}).get("label", "")),
        seed=exam.seed,
        time_limit_s=exam.time_limit_s,
        elapsed_s=exam.elapsed_s,
        applied=exam.applied,
        model_id=model_id,
        questions=questions,
        chapters=chapter_reports,
    )


def build_report(store: Store, exam_id: int) -> ExamReport:
    with store.session() as session:
        return _load(session, exam_id)


def refresh_result(session: Session, exam_id: int) -> ExamReport:
    """Recompute ``Exam.score`` and ``Exam.result`` inside the caller's transaction."""
    session.flush()
    report = _load(session, exam_id)
    exam = session.get(Exam, exam_id)
    assert exam is not None
    exam.score = report.score
    exam.result = report.summary()
    session.add(exam)
    return report
