"""The demo registry: metadata, presets, parameter validation, and import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from demo_helpers import child_env

from labdeck.demos import registry
from labdeck.demos.registry import DEMO_IDS, InvalidParameter, UnknownDemo, all_demos, get

HEAVY = ("torch", "transformers", "sklearn", "numpy", "plotext", "sqlmodel", "sqlalchemy")


def test_light_modules_import_nothing_heavy() -> None:
    code = (
        "import json, sys\n"
        "import labdeck.demos, labdeck.demos.registry, labdeck.demos.commands\n"
        "import labdeck.demos.runner, labdeck.demos.render, labdeck.demos.history\n"
        "import labdeck.demos.events, labdeck.demos.run\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), check=True
    )
    assert json.loads(out.stdout) == []


NEW_DEMOS = [
    "decoding",
    "positions",
    "contrastive",
    "lora",
    "guidance",
    "vq",
    "flash",
    "speculative",
]


def test_the_demos_are_registered() -> None:
    assert frozenset({"attention", "vae", "ddim", "ctc", *NEW_DEMOS}) == DEMO_IDS
    assert [d.id for d in all_demos()] == ["attention", "vae", "ddim", "ctc", *NEW_DEMOS]
    for demo in all_demos():
        assert get(demo.id) is demo
        assert demo.title and len(demo.explanation) > 200
        assert demo.topics and demo.keywords
        assert "quick" in demo.presets and "full" in demo.presets
        assert demo.seconds["quick"] <= 20
        defaults = demo.resolve()
        assert defaults == demo.defaults()
        quick = demo.resolve(preset="quick")
        assert set(quick) == set(defaults)
        info = demo.to_dict()
        json.dumps(info)  # serialisable for `demo list --json` and the TUI
        assert {p["name"] for p in info["params"]} == set(defaults)
    assert "B2.2" in get("attention").topics  # the role of scaling
    assert "C5.5" in get("ddim").topics
    assert "C8.5" in get("ctc").topics
    assert [d.id for d in registry.demos_for(["ELBO"])] == ["vae"]


def test_unknown_demo_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError) as info:
        get("gan")
    assert isinstance(info.value, UnknownDemo)
    known = ", ".join(sorted(["attention", "ctc", "ddim", "vae", *NEW_DEMOS]))
    assert str(info.value) == f"unknown demo 'gan'; known demos: {known}"


@pytest.mark.parametrize(
    ("demo_id", "params", "name", "fragment"),
    [
        ("vae", {"epochs": "-5"}, "epochs", "must be an integer in 1..5000"),
        ("vae", {"epochs": "ten"}, "epochs", "must be an integer"),
        ("vae", {"epochs": 2.5}, "epochs", "must be an integer"),
        ("vae", {"lr": "nan"}, "lr", "finite"),
        ("vae", {"lr": 5}, "lr", "must be a number in"),
        ("ddim", {"dataset": "circles"}, "dataset", "one of moons, swissroll"),
        ("attention", {"heads": 5}, "heads", "must divide d_model=64"),
        ("attention", {"sentence": "hello"}, "sentence", "2..16 words"),
        ("ctc", {"epochs": 3}, "epochs", "is not a parameter of this demo"),
    ],
)
def test_bad_parameters_name_the_parameter(
    demo_id: str, params: dict, name: str, fragment: str
) -> None:
    with pytest.raises(ValueError) as info:
        get(demo_id).resolve(params)
    assert isinstance(info.value, InvalidParameter)
    assert info.value.param == name
    assert f"parameter {name!r}" in str(info.value)
    assert fragment in str(info.value)


def test_values_are_coerced_and_layered() -> None:
    vae = get("vae")
    assert vae.resolve({"epochs": "7", "lr": "0.01"})["epochs"] == 7
    assert vae.resolve({"lr": "0.01"})["lr"] == pytest.approx(0.01)
    assert vae.resolve(preset="quick")["epochs"] == 100
    assert vae.resolve({"epochs": 3}, preset="quick")["epochs"] == 3  # explicit beats preset
    assert get("attention").resolve({"d-model": "32", "heads": "8"})["d_model"] == 32
    with pytest.raises(InvalidParameter, match="preset"):
        vae.resolve(preset="slow")
    flag = registry.Param("f", bool, False, "a flag")
    assert flag.coerce("yes") is True and flag.coerce("0") is False
    with pytest.raises(InvalidParameter):
        flag.coerce("maybe")


def test_new_demos_say_what_they_illustrate_and_what_to_notice() -> None:
    for demo_id in NEW_DEMOS:
        demo = get(demo_id)
        assert demo.concepts and all(c == c.casefold() for c in demo.concepts)
        assert demo.notice.count("\n- ") >= 2  # a few bullet points
        assert demo.seconds["quick"] <= 10 and demo.seconds["full"] <= 60


def test_what_to_notice_is_one_entry_a_paragraph_or_bullet() -> None:
    """QA: the notes, written wrapped at ~88 columns, broke mid-sentence in the narrower
    pane ("padding / and future / tokens…"): their lines are joined back into paragraphs
    and bullet points, which the screen wraps at its own width."""
    from labdeck.demos.notice import unwrapped

    entries = unwrapped(get("attention").notice)
    assert any("so padding and future tokens have no influence" in e for e in entries)
    for demo_id in NEW_DEMOS:
        notice = get(demo_id).notice
        entries = unwrapped(notice)
        bullets = sum(line.lstrip().startswith("- ") for line in notice.splitlines())
        assert sum(e.startswith("- ") for e in entries) == bullets, demo_id
        assert "".join("".join(entries).split()) == "".join(notice.split())  # nothing lost
    assert unwrapped("a\nb\n\nc\n- d\n  e\n- f") == ["a b", "c", "- d e", "- f"]
