"""Every card that links a demo is about something that demo shows.

A link is only useful if running the demo illustrates the card: each demo's registry entry lists
the concepts it shows (``Demo.concepts``), and a linked card's prompt, answer or key points must
name at least one of them. Cards whose topic a demo only brushes (sparse attention, ALiBi,
FlashAttention, guidance, discrete latents, ...) must not link it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from labdeck.demos import registry

CONTENT = Path(__file__).resolve().parents[2] / "content"

# Cards that once linked a demo showing nothing of their concept (issue 17).
NOT_SHOWN = {
    "b10.1": "attention",  # sparse attention patterns
    "b10.2": "attention",  # factorized (strided / fixed) attention
    "b10.4": "attention",  # ALiBi
    "b10.7": "attention",  # FlashAttention tiling
    "c4.1": "attention",  # the ViT pipeline (patches, class token)
    "c4.4": "attention",  # Swin's shifted windows
    "c4.5": "attention",  # TrOCR's initialisation
    "i5.3": "attention",  # long-context techniques
    "c6.1": "ddim",  # classifier guidance
    "c6.2": "ddim",  # classifier-free guidance
    "c6.4": "ddim",  # cascaded diffusion
    "c6.5": "ddim",  # diffusion super-resolution
    "c6.6": "ddim",  # inpainting
    "c6.3": "vae",  # latent diffusion's autoencoder is not a Gaussian VAE on digits
    "c3.5": "vae",  # discrete VAE
    "c3.6": "vae",  # VQ-VAE
    "c5.2": "vae",  # DALL-E's discrete VAE
}


def _cards() -> list[tuple[str, dict]]:
    if not CONTENT.is_dir():
        pytest.skip("the shipped content/ folder is not next to the tests")
    out = []
    for path in sorted(CONTENT.glob("*/*.toml")):
        if path.name == "deck.toml":
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out += [(f"{path.parent.name}/{path.name}", card) for card in data.get("cards", [])]
    return out


def _text(card: dict) -> str:
    parts = [card.get("prompt", ""), card.get("answer", ""), *card.get("key_points", [])]
    return " ".join(parts).casefold()


def test_every_demo_lists_lowercase_concepts() -> None:
    for demo in registry.all_demos():
        assert demo.concepts, f"{demo.id} has no concepts"
        assert all(c == c.casefold() and c.strip() == c for c in demo.concepts), demo.id
        assert demo.notice.strip(), f"{demo.id} has no 'what to notice' text"


def test_each_link_names_a_concept_the_demo_shows() -> None:
    wrong = []
    linked = 0
    for where, card in _cards():
        text = _text(card)
        for demo_id in card.get("demos", []):
            linked += 1
            demo = registry.get(demo_id)
            if not any(concept in text for concept in demo.concepts):
                wrong.append(f"{where} {card['id']} -> {demo_id}")
    assert linked > 0
    assert not wrong, "cards that name none of their demo's concepts: " + ", ".join(wrong)


def test_cards_about_what_a_demo_does_not_show_do_not_link_it() -> None:
    links = {card["id"]: set(card.get("demos", [])) for _, card in _cards()}
    offending = [
        f"{cid} -> {demo}" for cid, demo in NOT_SHOWN.items() if demo in links.get(cid, ())
    ]
    assert not offending, offending
    assert "ctc" in links["c8.3"]  # the end-to-end acoustic model card shows CTC training
