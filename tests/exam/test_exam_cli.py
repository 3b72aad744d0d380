"""``labdeck exam …`` end to end (in-process): new, grade --answers, list, report, override,
apply; errors are one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from labdeck.cli import main
from labdeck.store import Store
from labdeck.store.queries import list_cards

WRONG = "Bananas are rich in potassium and grow in tropical climates."


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def test_new_prints_questions_and_is_deterministic(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "exam", "new", "--chapters", "B1,B2", "-n", "4", "--seed", "9")
    assert code == 0
    assert out.startswith("Exam 1 · 4 questions · time 8:00 · seed 9 · exam-b B1, B2")
    assert "  1. [B1] exam-b:b1." in out
    code, out, _ = run(
        capsys,
        "exam", "new", "--chapters", "B1,B2", "-n", "4", "--seed", "9",
        "--total-time", "5m", "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert data["exam_id"] == 2 and data["time_limit_s"] == 300
    again = json.loads(run(capsys, "exam", "new", "--chapters", "B1,B2", "-n", "4", "--seed",
                           "9", "--json")[1])  # fmt: skip
    assert [q["key"] for q in again["questions"]] == [q["key"] for q in data["questions"]]
    assert {q["chapter"] for q in data["questions"]} == {"B1", "B2"}


def test_grade_answers_jsonl_reports_known_quality(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str], grader: Any
) -> None:
    cards = [c for c in list_cards(store, "exam-b", kind="essay") if c.chapter in ("B3", "B9")][:6]
    rows = []
    for i, card in enumerate(cards):
        kind = ("full", "full", "wrong", "blank", "partial", "wrong")[i]
        answer = {
            "full": card.answer,
            "wrong": WRONG,
            "blank": "",
            "partial": " ".join(card.key_points[:2]),
        }[kind]
        rows.append({"key": card.key, "answer": answer, "time_s": 20 + i})
    path = _jsonl(tmp_path / "sitting.jsonl", rows)
    code, out, err = run(capsys, "exam", "grade", "--answers", str(path), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["status"] == "graded"
    questions = report["questions"]
    assert [q["key"] for q in questions] == [c.key for c in cards]
    quality = [q["quality"] for q in questions]
    assert quality[0] >= 4 and quality[1] >= 4
    assert quality[2] <= 1 and quality[5] <= 1
    assert quality[3] == 0 and questions[3]["verdict"] == "blank"
    assert questions[4]["score"] > questions[2]["score"]
    assert len(questions[0]["covered"]) > len(questions[0]["missed"])
    assert len(questions[2]["missed"]) > len(questions[2]["covered"])
    assert [q["time_s"] for q in questions] == [20, 21, 22, 23, 24, 25]
    chapters = {c["code"]: c for c in report["chapters"]}
    assert set(chapters) == {c.chapter for c in cards}
    assert sum(c["questions"] for c in chapters.values()) == 6
    assert 0 < report["total_score"] < 1
    assert report["total_score"] == pytest.approx(sum(q["score"] for q in questions) / 6, abs=1e-3)

    # text report, list, override, apply, Markdown export
    exam_id = str(report["exam_id"])
    code, out, _ = run(capsys, "exam", "report", exam_id)
    assert code == 0 and f"Exam {exam_id} · " in out and "Per chapter:" in out
    code, out, _ = run(capsys, "exam", "override", exam_id, "3", "2")
    assert code == 0 and "quality set to 2" in out
    code, out, _ = run(capsys, "exam", "report", exam_id, "--json")
    assert json.loads(out)["questions"][2]["quality"] == 2
    assert json.loads(out)["total_score"] > report["total_score"]
    code, out, _ = run(capsys, "exam", "list", "--json")
    assert json.loads(out)[0]["exam_id"] == int(exam_id)
    md = tmp_path / "report.md"
    code, out, _ = run(capsys, "exam", "report", exam_id, "--markdown", str(md))
    assert code == 0 and md.read_text().startswith(f"# Mock exam {exam_id}")
    code, out, _ = run(capsys, "exam", "apply", exam_id)
    assert code == 0 and "5 reviews recorded (mode exam); 1 blank answers skipped" in out
    code, _, err = run(capsys, "exam", "apply", exam_id)
    assert (
        code == 1 and err.strip() == f"labdeck: exam {exam_id} is already applied to the schedule"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"key": "exam-b:b1.1", "answer": "x"}\n{"key": \n', "sitting.jsonl:2: not valid JSON"),
        ('{"key": "exam-b:nope", "answer": "x"}\n', "sitting.jsonl:1: unknown card key"),
        ('["exam-b:b1.1", "x"]\n', "sitting.jsonl:1: expected a JSON object"),
        ('{"answer": "x"}\n', "sitting.jsonl:1: missing card 'key'"),
        ('{"key": "exam-b:b1.1", "answer": 3}\n', "sitting.jsonl:1: 'answer' must be a string"),
        ('{"key": "exam-b:b1.1", "time_s": -1}\n', "sitting.jsonl:1: 'time_s' must be"),
        (
            '{"key": "exam-b:b1.1"}\n\n{"key": "exam-b:b1.1"}\n',
            "sitting.jsonl:3: card 'exam-b:b1.1' already answered on line 1",
        ),
        ("\n\n", "sitting.jsonl: no answers"),
    ],
)
def test_grade_errors_are_one_line(
    store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    message: str,
) -> None:
    path = tmp_path / "sitting.jsonl"
    path.write_text(content)
    code, out, err = run(capsys, "exam", "grade", "--answers", str(path))
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert run(capsys, "exam", "list", "--json")[1].strip() == "[]"  # nothing written


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("exam", "report", "42"), "no exam with id 42"),
        (("exam", "override", "42", "1", "3"), "no exam with id 42"),
        (("exam", "override", "1", "1", "9"), "quality must be 0–5"),
        (("exam", "apply", "42"), "no exam with id 42"),
        (("exam", "new", "--chapters", "Z1"), "unknown chapter 'Z1'"),
        (("exam", "grade", "--answers", "/nonexistent/a.jsonl"), "no such file"),
    ],
)
def test_cli_errors(
    store: Store, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, _out, err = run(capsys, *argv)
    assert code != 0
    assert message in err and len(err.strip().splitlines()) == 1
