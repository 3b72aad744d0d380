"""The grading lexicon files: every entry once, no entry in two lists that exclude each other,
and the code reads its tables from them."""

from __future__ import annotations

import tomllib
from collections import Counter
from importlib.resources import files
from itertools import combinations

from labdeck.grading import contradict, lexicon, terms


def _entries(value: object) -> list[str]:
    """The entries of a list, or the characters of a string of single characters."""
    if isinstance(value, str):
        return list(value)
    assert isinstance(value, list)
    return [str(v) for v in value]


def _duplicates(items: list[str]) -> list[str]:
    return sorted(k for k, n in Counter(items).items() if n > 1)


def _all_lists(node: object, path: str = "") -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_all_lists(v, f"{path}.{k}" if path else k))
    elif isinstance(node, list) and node and isinstance(node[0], dict):
        for i, v in enumerate(node):
            out.extend(_all_lists(v, f"{path}[{i}]"))
    elif isinstance(node, list) or (isinstance(node, str) and path.startswith(("en.", "zh."))):
        out.append((path, _entries(node)))
    return out


def test_every_lexicon_file_is_packaged_and_parses() -> None:
    names = sorted(p.name for p in files("labdeck.grading.lexicon").iterdir())
    assert {f"{n}.toml" for n in lexicon.FILES} <= set(names)
    assert {n for n in names if n.endswith(".toml")} == {f"{n}.toml" for n in lexicon.FILES}
    for name in lexicon.FILES:
        raw = files("labdeck.grading.lexicon").joinpath(f"{name}.toml").read_bytes()
        assert tomllib.loads(raw.decode("utf-8")) == lexicon.load(name)


def test_no_list_has_a_duplicate_entry() -> None:
    for name in lexicon.FILES:
        for path, items in _all_lists(lexicon.load(name)):
            assert not _duplicates(items), f"{name}.toml {path}: {_duplicates(items)}"


def test_mutually_exclusive_lists_share_nothing() -> None:
    stop = lexicon.load("stopwords")
    for lang in ("en", "zh"):
        for a, b in combinations(("common", "key_terms", "concepts"), 2):
            shared = set(_entries(stop[lang][a])) & set(_entries(stop[lang][b]))
            assert not shared, f"stopwords.toml [{lang}] {a} and {b}: {sorted(shared)}"
    lex = lexicon.load("contradiction")
    neg, conj = lex["negation"], lex["conjunction"]
    english = {
        "negation.en": neg["en"],
        "negation.open_en": neg["open_en"],
        "conjunction.en": conj["en"],
        "stop concepts": sorted(lexicon.stop_words("concepts", "en")),
    }
    chinese = {
        "negation.zh": neg["zh"],
        "negation.open_zh": neg["open_zh"],
        "negation.false_zh": neg["false_zh"],
        "conjunction.zh": conj["zh"],
    }
    for group in (english, chinese):
        for (a, xs), (b, ys) in combinations(group.items(), 2):
            assert not set(xs) & set(ys), f"{a} and {b}: {sorted(set(xs) & set(ys))}"
    owner: dict[str, str] = {}
    for pair in lex["pair"]:
        for side in ("a", "b"):
            for term in pair.get(side, []):
                assert term not in owner, f"{term!r} in {owner.get(term)} and {pair['name']}"
                owner[term] = f"{pair['name']}.{side}"
    assert not set(lex["glossary_zh"]) & set(owner), "a glossary term is also a pair term"
    names = [p["name"] for p in lex["pair"]]
    assert not _duplicates(names)


def test_the_code_reads_the_lexicon() -> None:
    lex = lexicon.load("contradiction")
    assert [p.name for p in contradict.PAIRS] == [p["name"] for p in lex["pair"]]
    changes = next(p for p in contradict.PAIRS if p.name == "changes/constant")
    direction = next(p for p in contradict.PAIRS if p.name == "increase/decrease")
    assert changes.a == direction.a + direction.b
    assert "much" in terms._STOP and "method" in terms._STOP
    assert "method" not in contradict._STOP_EN and "within" in contradict._STOP_EN
    assert lexicon.load("stopwords") is lexicon.load("stopwords")  # parsed once
