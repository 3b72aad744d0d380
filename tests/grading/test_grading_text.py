"""Text handling: language detection, segmentation, chunking, key terms, contradictions."""

from __future__ import annotations

import pytest

from labdeck.grading import contradict, keypoints, language, segment, terms
from labdeck.grading.language import to_simplified


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("Dividing by sqrt(d_k) keeps the softmax stable.", "en"),
        ("除以 sqrt(d_k) 让 softmax 更稳定，梯度不会消失。", "zh-Hans"),
        ("除以 sqrt(d_k) 讓 softmax 更穩定，梯度不會消失。", "zh-Hant"),
        ("点积的 variance 和 d_k 成正比，softmax 会 saturate，gradient 很小。", "mixed"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert language.detect_language(text, to_simplified(text)) == lang


def test_sentences_keep_decimals_and_abbreviations() -> None:
    text = "Use eta = 0.5 here, e.g. for DDIM. Then sample 50 steps.\n- a bullet item"
    assert segment.sentences(text) == [
        "Use eta = 0.5 here, e.g. for DDIM.",
        "Then sample 50 steps.",
        "a bullet item",
    ]


def test_chinese_sentences_and_clauses() -> None:
    sents = segment.sentences("前向过程加噪声。反向过程用网络去噪，一步一步进行！")
    assert sents == ["前向过程加噪声。", "反向过程用网络去噪，一步一步进行！"]
    assert segment.clauses(sents[1]) == ["反向过程用网络去噪", "一步一步进行！"]


def test_chunks_cover_the_whole_text_without_truncation() -> None:
    words = [f"w{i}" for i in range(1000)]
    text = " ".join(words)
    pieces = segment.chunks(text)
    assert len(pieces) > 1
    assert all(language.units(p) <= segment.CHUNK_UNITS for p in pieces)
    assert " ".join(pieces).split() == words


def test_derive_key_points_from_reference() -> None:
    ref = (
        "The first claim is about attention. The second claim is about heads.\n"
        "- A third claim comes as a bullet\nToo short."
    )
    assert keypoints.derive_key_points(ref) == [
        "The first claim is about attention.",
        "The second claim is about heads.",
        "A third claim comes as a bullet; Too short.",  # a fragment joins its neighbour
    ]
    many = " ".join(f"Sentence number {i} is here." for i in range(20))
    assert len(keypoints.derive_key_points(many)) <= keypoints.MAX_DERIVED


def test_derived_key_points_are_self_contained_claims() -> None:
    ref = (
        "**How it works**\n"
        "LoRA (Hu et al., 2021) freezes the pretrained weights [3]. The update is written as the "
        "product of two small matrices B and A whose rank r is much smaller than the layer "
        "width: only A and B are trained, so the optimiser state shrinks by orders of "
        "magnitude.\n"
        "Effects:\n"
        "- no extra inference latency after merging BA into W;\n"
        "- adapters for many tasks share one base model\n"
        "\\mathrm{softmax}(QK^\\top)\n"
        "In short."
    )
    kps = keypoints.derive_key_points(ref)
    assert kps[0] == "LoRA freezes the pretrained weights."  # citation and reference gone
    assert not any(k.startswith(("How it works", "Effects")) for k in kps)  # headings gone
    assert not any("mathrm" in k or k.startswith("In short") for k in kps)  # formula, filler
    # the long sentence is split at the colon into two claims
    assert any(k.endswith("much smaller than the layer width") for k in kps)
    assert any(k.startswith("only A and B are trained") for k in kps)
    assert "no extra inference latency after merging BA into W" in kps
    assert all(language.units(k) >= keypoints.MIN_CLAIM_UNITS for k in kps)


def test_derived_key_points_chinese_and_fragments() -> None:
    ref = (
        "温度在 softmax 之前除以 logits。温度小于 1 会让分布更尖锐，更偏向最可能的词，输出更"
        "确定，从而减少随机性和多样性；大于 1 会让分布更平坦。好。"
    )
    kps = keypoints.derive_key_points(ref)
    assert kps[0] == "温度在 softmax 之前除以 logits。"
    assert any(k.startswith("从而减少随机性") for k in kps)  # split at a coordinating clause
    assert not any(k in ("好。", "好") for k in kps)  # a fragment is merged into a neighbour
    assert len(kps) == 4 and kps[-1].startswith("大于 1 会让分布更平坦")


def test_key_terms_and_typo_tolerant_matching() -> None:
    found = terms.key_terms("The ELBO equals reconstruction minus KL; divide by sqrt(d_k) and W_O.")
    assert {"ELBO", "KL", "sqrt(d_k)", "W_O", "reconstruction"} <= set(found)
    norm, words = terms.prepare_answer_for_terms("we maximise the elbo, recontsruction minus kl")
    assert terms.term_found("ELBO", norm, words)
    assert terms.term_found("KL", norm, words)
    assert terms.term_found("reconstruction", norm, words)  # typo
    norm2, words2 = terms.prepare_answer_for_terms("a skill issue")
    assert not terms.term_found("KL", norm2, words2)  # acronyms match whole tokens only


@pytest.mark.parametrize(
    ("answer", "reference"),
    [
        (
            "The discriminator generates samples from noise and the generator classifies them.",
            "The generator maps noise to samples; the discriminator tells real from fake.",
        ),
        ("ELBO 是对数似然的上界。", "VAE 最大化 log p(x) 的下界 ELBO。"),
        (
            "It has stronger inductive bias than CNNs and needs little data.",
            "It has weaker inductive bias than CNNs and needs large-scale pre-training.",
        ),
        (
            "InfoNCE pushes the positive away and pulls the negatives closer.",
            "InfoNCE 拉近正样本，推远负样本。",
        ),
    ],
)
def test_swaps_are_detected(answer: str, reference: str) -> None:
    result = contradict.compare(to_simplified(answer), to_simplified(reference))
    assert result.swaps >= 1, result


@pytest.mark.parametrize(
    ("answer", "reference"),
    [
        (
            "The generator turns noise into samples and the discriminator judges real vs fake.",
            "The generator maps noise to samples; the discriminator tells real from fake.",
        ),
        ("ELBO 是对数似然的下界，训练时最大化它。", "VAE 最大化 log p(x) 的下界 ELBO。"),
        (
            "Instead of a continuous latent, VQ-VAE uses discrete codebook vectors.",
            "VQ-VAE uses a discrete latent space with a codebook.",
        ),
    ],
)
def test_paraphrases_are_not_contradictions(answer: str, reference: str) -> None:
    result = contradict.compare(to_simplified(answer), to_simplified(reference))
    assert result.swaps == 0 and result.negations == 0, result


def test_negation_flip() -> None:
    answer = "它需要单独训练一个带噪声的分类器。"
    reference = "它不需要单独训练带噪声的分类器。"
    assert contradict.compare(answer, reference).negations == 1
    assert contradict.compare(reference, reference).negations == 0


def test_lexicon_tokens_in_input_are_harmless() -> None:
    weird = "inner product \ue000s1_0\ue001 ⟨x, y⟩ \u241e and more"
    assert contradict.compare(weird, "the inner product ⟨x, y⟩").swaps == 0


@pytest.mark.parametrize(
    ("answer", "reference", "pair"),
    [
        ("The decoder.", "The encoder.", "encoder/decoder"),
        (
            "It stops each position from attending to past tokens.",
            "It stops each position from attending to future tokens.",
            "previous/future",
        ),
        ("它用连续的隐变量。", "VQ-VAE 的隐变量是离散的。", "discrete/continuous"),
    ],
)
def test_an_opposite_put_in_place_of_the_reference_notion_is_a_swap(
    answer: str, reference: str, pair: str
) -> None:
    result = contradict.compare(to_simplified(answer), to_simplified(reference))
    assert result.swaps == 1 and pair in result.reasons, result


def test_substitution_can_be_left_out_for_fragments() -> None:
    """A fragment compared with a claim made elsewhere is judged by its bindings only: "the
    decoder" binds nothing, so it contradicts nothing."""
    assert contradict.compare("The decoder.", "The encoder.", substitution=False).swaps == 0


def test_naming_both_sides_is_no_substitution() -> None:
    answer = "BERT is an encoder, unlike GPT, which is a decoder."
    assert contradict.compare(answer, "BERT is a Transformer encoder.").swaps == 0


def test_a_negated_clause_inside_a_longer_reference_clause_is_no_flip() -> None:
    """'No full softmax' repeats one part of a longer reference clause that says the full
    softmax is expensive; sharing two concepts is not saying the same thing."""
    answer = "Negative sampling: no full softmax."
    reference = (
        "Computing a full softmax over the whole vocabulary for every prediction is expensive."
    )
    assert contradict.compare(answer, reference).negations == 0
