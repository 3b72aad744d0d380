"""``labdeck grade`` and ``labdeck grade-eval`` through the real CLI entry point."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from labdeck.cli import main

REF = "Dividing by sqrt(d_k) keeps the dot products from saturating the softmax."
KPS = ["Large dot products saturate the softmax.", "Dividing by sqrt(d_k) rescales the scores."]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_grade_single_json(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "grade",
        "--reference",
        REF,
        "--answer",
        "We scale by 1/sqrt(d_k) so the softmax does not saturate.",
        "--json",
    ]
    for kp in KPS:
        argv += ["--key-point", kp]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    data = json.loads(out)
    assert 0 <= data["score"] <= 1 and data["quality"] in range(6)
    assert [k["text"] for k in data["key_points"]] == KPS
    assert data["language"] == "en" and data["model_id"] == "use-multilingual-v3"


def test_grade_human_output(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["grade", "--reference", REF, "--answer", REF], capsys)
    assert code == 0
    assert out.startswith("quality 5/5")


def test_grade_jsonl_round_trip(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    rows = [
        {"id": "a", "reference": REF, "key_points": KPS, "answer": REF},
        {"id": "b", "reference": REF, "key_points": KPS, "answer": "   "},
        {"id": "c", "reference": REF, "answer": "除以 sqrt(d_k)，防止 softmax 饱和。"},
        {"reference": REF, "answer": "The capital of France is Paris.", "label": 0},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    code, out, err = run(["grade", "--jsonl", str(src)], capsys)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 4
    assert [line.get("id") for line in lines] == ["a", "b", "c", None]
    assert lines[0]["quality"] == 5
    assert (lines[1]["quality"], lines[1]["score"], lines[1]["language"]) == (0, 0.0, "empty")
    assert lines[2]["language"] == "zh-Hans"
    assert lines[3]["quality"] <= 1
    for line in lines:
        assert {"score", "quality", "key_points", "language", "model_id"} <= set(line)

    bom = tmp_path / "bom.jsonl"  # as some Windows editors save it
    bom.write_bytes(b"\xef\xbb\xbf" + src.read_bytes().replace(b"\n", b"\r\n"))
    code, out_bom, err = run(["grade", "--jsonl", str(bom)], capsys)
    assert code == 0, err
    assert out_bom == out

    monkeypatch.setattr("sys.stdin", io.StringIO(src.read_text()))
    code, out2, _ = run(["grade", "--jsonl", "-"], capsys)
    assert code == 0
    assert [json.loads(x)["quality"] for x in out2.splitlines()] == [x["quality"] for x in lines]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"reference": "r", "answer": "a"}\n{not json}\n', "in.jsonl:2: not valid JSON"),
        ('{"reference": "r", "answer": "a"}\n[1, 2]\n', "in.jsonl:2: expected a JSON object"),
        ('{"answer": "a"}\n', "in.jsonl:1: needs a non-empty 'reference' or 'key_points'"),
        ('{"reference": "r", "answer": 3}\n', "in.jsonl:1: 'answer' must be a string"),
        ('{"reference": "r", "answer": "a", "key_points": "x"}\n', "in.jsonl:1: 'key_points'"),
    ],
)
def test_grade_jsonl_bad_line(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(content)
    code, out, err = run(["grade", "--jsonl", str(src)], capsys)
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_grade_usage_errors(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["grade", "--reference", REF], capsys)
    assert code == 2 and "--answer" in err
    code, _, err = run(["grade", "--jsonl", "/nonexistent/file.jsonl"], capsys)
    assert code == 2 and "cannot read" in err
    code, _, err = run(
        ["grade", "--answer", "x", "--backend", "st", "--model", "/no/such/model"], capsys
    )
    assert code == 2 and "reference" in err  # input is checked before the model loads
    code, _, err = run(
        [
            "grade",
            "--reference",
            REF,
            "--answer",
            "x",
            "--backend",
            "st",
            "--model",
            "/no/such/model",
        ],
        capsys,
    )
    assert code == 1 and "cannot load sentence-transformers model" in err


def test_grade_with_st_backend(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["grade", "--backend", "st", "--reference", REF, "--answer", REF, "--json"], capsys
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["model_id"] == "st:all-minilm-l6-v2" and data["quality"] == 5


def test_grade_eval_prints_the_table(
    home: Path, tmp_path: Path, dev_items: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    small = tmp_path / "small.jsonl"
    picked = [it for it in dev_items if it["id"].split("/")[0] in {"mha", "rag", "gan", "ddim"}]
    small.write_text("\n".join(json.dumps(it, ensure_ascii=False) for it in picked))
    code, out, err = run(["grade-eval", "--data", str(small), "--folds", "4"], capsys)
    assert code == 0, err
    assert "Cross-validated by question" in out and "As shipped" in out
    assert "| overall" in out and "| en-zh" in out
    assert "by author" not in out  # one author in this file
    held = tmp_path / "held.jsonl"
    held.write_text("\n".join(json.dumps(it, ensure_ascii=False) for it in picked[:12]))
    code, out, err = run(
        ["grade-eval", "--data", str(small), "--folds", "4", "--holdout", str(held)], capsys
    )
    assert code == 0, err
    assert "Held-out set held.jsonl (12 items never used for fitting)" in out
    code, _, err = run(["grade-eval", "--data", str(tmp_path / "none.jsonl")], capsys)
    assert code == 2 and "no labelled data" in err
