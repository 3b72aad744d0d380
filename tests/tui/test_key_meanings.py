"""One meaning per key across the app (issue 15.4).

Walks the bindings of the app and of every screen class in ``labdeck.tui.screens`` (what the
footer and the help screen show): a key must carry the same action on every screen that binds
it, or one of the actions ``KEY_MEANINGS`` lists for it; ``SCREEN_LOCAL_KEYS`` (digits, enter,
escape, y/n, ctrl+c) are local by convention.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict

from textual.app import App
from textual.screen import Screen

import labdeck.tui.screens as screens_pkg
from labdeck.tui.app import LabdeckApp
from labdeck.tui.bindings import KEY_MEANINGS, SCREEN_LOCAL_KEYS


def _screen_classes() -> list[type[Screen]]:
    found: dict[str, type[Screen]] = {}
    for info in pkgutil.walk_packages(screens_pkg.__path__, screens_pkg.__name__ + "."):
        module = importlib.import_module(info.name)
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Screen) and obj.__module__.startswith("labdeck."):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


def _key_actions() -> dict[str, set[tuple[str, str]]]:
    """key -> {(where, action)} for the app and every screen."""
    keys: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for key, bindings in LabdeckApp._merge_bindings().key_to_bindings.items():
        for binding in bindings:
            keys[key].add(("LabdeckApp", binding.action))
    keys[LabdeckApp.COMMAND_PALETTE_BINDING].add(("LabdeckApp", "command_palette"))
    for cls in _screen_classes():
        for key, bindings in cls._merge_bindings().key_to_bindings.items():
            for binding in bindings:
                keys[key].add((cls.__name__, binding.action))
    return keys


def test_every_screen_is_walked() -> None:
    names = {cls.__name__ for cls in _screen_classes()}
    assert {
        "HomeScreen",
        "ReviewScreen",
        "BrowseScreen",
        "DemosScreen",
        "StatsScreen",
        "ImportScreen",
        "SettingsScreen",
        "HelpScreen",
        "ExamSetupScreen",
        "ExamScreen",
        "ExamReportScreen",
        "ExamHistoryScreen",
        "ConfirmScreen",
    } <= names


def test_each_key_means_one_thing_on_every_screen() -> None:
    conflicts = []
    for key, uses in sorted(_key_actions().items()):
        if key in SCREEN_LOCAL_KEYS:
            continue
        actions = {action for _where, action in uses}
        if key in KEY_MEANINGS:
            _meaning, allowed = KEY_MEANINGS[key]
            stray = sorted(u for u in uses if u[1] not in allowed)
            if stray:
                conflicts.append(f"{key}: {stray} (means {_meaning!r})")
        elif len(actions) > 1:
            conflicts.append(f"{key}: {sorted(uses)}")
    assert not conflicts, "keys with more than one meaning:\n" + "\n".join(conflicts)


def test_ctrl_p_is_the_command_palette_everywhere() -> None:
    uses = _key_actions()["ctrl+p"]
    assert uses == {("LabdeckApp", "command_palette")}
    assert not hasattr(LabdeckApp, "check_action") or LabdeckApp.check_action is App.check_action


def test_ctrl_s_submits_in_review_and_exam() -> None:
    uses = _key_actions()["ctrl+s"]
    assert ("ReviewScreen", "submit") in uses
    assert ("ExamScreen", "submit") in uses
    assert not any(action == "skip" for _where, action in uses)


def test_the_palette_names_every_demo_and_counts_them_right() -> None:
    from labdeck.demos.registry import DEMO_IDS

    app = LabdeckApp.__new__(LabdeckApp)  # the entries need no running app
    entries = {c.title: c.help for c in LabdeckApp.get_system_commands(app, Screen())}
    assert entries["Demos"] == f"Run one of {len(DEMO_IDS)} micro-demos"
    assert {t for t in entries if t.startswith("Run demo: ")} == {
        f"Run demo: {d}" for d in DEMO_IDS
    }
