"""Lexical contradiction checks: swapped roles, opposite notions, and flipped negations.

Sentence embeddings are close to bags of words: "the discriminator generates samples and the
generator classifies them" embeds almost exactly like the correct statement. This module catches
such answers lexically, in English and Chinese, without a model:

1. Both texts become clauses of *concepts*: English words (lightly stemmed), Chinese domain terms
   mapped onto the same English concepts by a small glossary, other Chinese content bigrams, one
   token per side of an opposite pair (encoder/decoder, maximise/minimise, increase/decrease …)
   and a negation flag. Clauses end at punctuation and at conjunctions (and, but, 而, 但 …).
2. Within a clause that mentions one side of an opposite pair, every other concept is *bound*
   to that side (a clause naming both sides binds nothing). For properties (not for entities
   such as encoder/decoder) a negation flips the side: "not continuous" reads as "discrete".
3. A concept bound to one side in the answer and only to the other side in the reference is a
   mismatch ("queries … encoder" vs "decoder … queries"); a concept bound to both sides in
   either text says nothing. A pair with more mismatches than matches counts as one swap, and
   so does a pair of which the answer names only one side and the reference only the other
   (substitution: "the decoder" for "the encoder").
4. An answer clause that says what a reference clause says (Jaccard ≥ POL_MIN over at least
   two shared concepts) with the opposite polarity counts as one negation flip.

Chinese text must already be simplified (see ``embedder.to_simplified``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Pair:
    name: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    role: bool = False  # entities: a negation does not turn one side into the other


# fmt: off
_INCREASE = (
    "increase", "increases", "increased", "increasing", "grow", "grows", "grew", "growing", "raise",
    "raises", "larger", "bigger", "higher", "above", "greater than", "explode", "explodes",
    "exploding", "增加", "增大", "变大", "升高", "扩大", "变多", "更多", "越大", "越高", "越多", "提高", "更高", "大于", "高于",
    "超过", "极大", "爆炸", "放大",
)
_DECREASE = (
    "decrease", "decreases", "decreased", "decreasing", "reduce", "reduces", "reduced", "shrink",
    "shrinks", "shrank", "smaller", "fewer", "lower", "below", "less than", "vanish", "vanishes",
    "vanishing", "tiny", "减少", "减小", "变小", "下降", "缩小", "变少", "更少", "越小", "越低", "越少", "降低", "更低",
    "小于", "低于", "极小", "很小", "消失",
)

PAIRS: list[Pair] = [
    Pair(
        "encoder/decoder",
        (
            "encoder", "encoders", "编码器",
        ),
        (
            "decoder", "decoders", "解码器",
        ),
        role=True,
    ),
    Pair(
        "generator/discriminator",
        (
            "generator", "generators", "生成器",
        ),
        (
            "discriminator", "discriminators", "判别器", "鉴别器",
        ),
        role=True,
    ),
    Pair(
        "teacher/student",
        (
            "teacher", "teachers", "教师", "老师",
        ),
        (
            "student", "students", "学生",
        ),
        role=True,
    ),
    Pair(
        "reward model/policy",
        (
            "reward model", "reward models", "奖励模型",
        ),
        (
            "policy", "policies", "策略",
        ),
        role=True,
    ),
    Pair(
        "forward/reverse",
        (
            "forward process", "forward", "前向过程", "前向",
        ),
        (
            "reverse process", "reverse", "backward", "反向过程", "反向", "逆向",
        ),
        role=True,
    ),
    Pair(
        "positive/negative",
        (
            "positive", "positives", "正样本",
        ),
        (
            "negative", "negatives", "负样本",
        ),
        role=True,
    ),
    Pair(
        "large/small model",
        (
            "large model", "larger model", "big model", "target model", "大模型", "较大的模型",
        ),
        (
            "small model", "smaller model", "draft model", "小模型", "较小的模型", "草稿模型",
        ),
        role=True,
    ),
    Pair(
        "conditional/unconditional",
        (
            "conditional", "有条件",
        ),
        (
            "unconditional", "无条件",
        ),
        role=True,
    ),
    Pair(
        "increase/decrease",
        _INCREASE,
        _DECREASE,
    ),
    Pair(
        "changes/constant",
        _INCREASE + _DECREASE,
        (
            "constant", "unchanged", "the same", "roughly constant", "stays", "不变", "基本不变", "差不多",
            "保持不变", "一样",
        ),
    ),
    Pair(
        "maximise/minimise",
        (
            "maximise", "maximises", "maximize", "maximizes", "maximising", "maximizing",
            "maximised", "maximized", "最大化",
        ),
        (
            "minimise", "minimises", "minimize", "minimizes", "minimising", "minimizing",
            "minimised", "minimized", "最小化",
        ),
    ),
    Pair(
        "upper/lower bound",
        (
            "upper bound", "上界",
        ),
        (
            "lower bound", "下界",
        ),
    ),
    Pair(
        "pull/push",
        (
            "together", "closer", "close to", "拉近", "靠近",
        ),
        (
            "apart", "away", "far from", "drift", "drifts", "推远", "推开", "远离", "偏离",
        ),
    ),
    Pair(
        "previous/future",
        (
            "previous", "earlier", "preceding", "past", "之前的", "前面的", "过去", "以前",
        ),
        (
            "future", "later", "subsequent", "upcoming", "之后的", "后面的", "未来",
        ),
    ),
    Pair(
        "parallel/sequential",
        (
            "parallel", "simultaneously", "at once", "并行", "一次性", "同时",
        ),
        (
            "sequential", "sequentially", "serial", "one by one", "串行", "逐个", "依次",
        ),
    ),
    Pair(
        "deterministic/random",
        (
            "deterministic", "确定性", "确定",
        ),
        (
            "random", "stochastic", "randomness", "随机",
        ),
    ),
    Pair(
        "discrete/continuous",
        (
            "discrete", "离散",
        ),
        (
            "continuous", "连续",
        ),
    ),
    Pair(
        "add/remove noise",
        (
            "add noise", "adds noise", "adding noise", "加噪", "加噪声", "加入噪声", "加高斯噪声",
        ),
        (
            "remove noise", "removes noise", "removing noise", "denoise", "denoises", "denoising",
            "去噪", "去除噪声",
        ),
    ),
    Pair(
        "multiply/divide",
        (
            "multiply", "multiplies", "multiplied", "multiplying", "乘以",
        ),
        (
            "divide", "divides", "divided", "dividing", "除以",
        ),
    ),
    Pair(
        "sharper/flatter",
        (
            "sharper", "sharpen", "sharpens", "peakier", "peaked", "尖锐", "更尖",
        ),
        (
            "flatter", "flatten", "flattens", "smoother", "平坦", "更平",
        ),
    ),
    Pair(
        "faster/slower",
        (
            "faster", "fastest", "fast", "speeds up", "speed up", "speed-up", "speed-ups",
            "speedup", "quicker", "加快", "更快", "变快", "最快", "很快",
        ),
        (
            "slower", "slowest", "slow", "slows", "slows down", "更慢", "变慢", "减慢", "太慢", "很慢", "最慢",
        ),
    ),
    Pair(
        "exact/approximate",
        (
            "exact", "exactly", "精确",
        ),
        (
            "approximate", "approximately", "近似",
        ),
    ),
    Pair(
        "local/global",
        (
            "local", "局部",
        ),
        (
            "global", "全局",
        ),
    ),
    Pair(
        "stronger/weaker",
        (
            "stronger", "更强", "较强", "强于",
        ),
        (
            "weaker", "更弱", "较弱", "弱于",
        ),
    ),
    Pair(
        "frozen/trained",
        (
            "frozen", "freeze", "freezes", "冻结",
        ),
        (
            "all weights", "all parameters", "全部权重", "所有权重", "全部参数",
        ),
    ),
    Pair(
        "bidirectional/left-to-right",
        (
            "bidirectional", "both directions", "双向", "左右两边", "两侧",
        ),
        (
            "unidirectional", "left-to-right", "left to right", "单向", "从左到右",
        ),
    ),
    Pair(
        "sparse/dense",
        (
            "sparse", "sparsely", "稀疏",
        ),
        (
            "dense", "densely", "稠密", "密集",
        ),
    ),
    Pair(
        "linear/quadratic",
        (
            "linear", "linearly", "线性",
        ),
        (
            "quadratic", "quadratically", "平方级", "二次",
        ),
    ),
    Pair(
        "absolute/relative",
        (
            "absolute", "绝对",
        ),
        (
            "relative", "相对",
        ),
    ),
    Pair(
        "pixel/latent space",
        (
            "pixel space", "像素空间",
        ),
        (
            "latent space", "隐空间", "潜在空间",
        ),
        role=True,
    ),
    Pair(
        "soft/hard targets",
        (
            "soft", "软标签", "软目标",
        ),
        (
            "hard", "one-hot", "硬标签",
        ),
    ),
    Pair(
        "labelled/unlabelled",
        (
            "labelled", "labeled", "annotated", "有标注",
        ),
        (
            "unlabelled", "unlabeled", "raw", "无标注",
        ),
    ),
]

# Chinese domain terms → English concepts (stemmed like English words). Longest match wins.
GLOSSARY: dict[str, str] = {
    "自注意力": "self-attention", "交叉注意力": "cross-attention", "注意力": "attention", "多头": "multi-head",
    "向量": "vector", "矩阵": "matrix", "维度": "dimension", "梯度": "gradient", "方差": "variance",
    "概率": "probability", "分布": "distribution", "损失": "loss", "训练": "train", "推理": "inference",
    "预测": "predict", "生成": "generate", "样本": "sample", "噪声": "noise", "图像": "image", "图片": "image",
    "文本": "text", "文字": "text", "标签": "label", "类别": "class", "参数": "parameter", "权重": "weight",
    "序列": "sequence", "位置": "position", "句子": "sentence", "专家": "expert", "路由器": "router",
    "门控": "gate", "缓存": "cache", "显存": "memory", "内存": "memory", "计算量": "compute", "计算": "compute",
    "速度": "speed", "步骤": "step", "采样": "sample", "温度": "temperature", "对数似然": "log-likelihood",
    "似然": "likelihood", "后验": "posterior", "先验": "prior", "隐变量": "latent", "隐空间": "latent",
    "潜在空间": "latent", "码本": "codebook", "重构": "reconstruct", "奖励": "reward", "偏好": "preference",
    "人类": "human", "示范": "demonstration", "微调": "fine-tune", "预训练": "pre-train", "检索": "retrieve",
    "文档": "document", "提示": "prompt", "知识": "knowledge", "幻觉": "hallucination", "索引": "index",
    "近邻": "neighbour", "哈希": "hash", "锚点": "anchor", "相似度": "similarity", "余弦": "cosine",
    "对比": "contrastive", "蒸馏": "distill", "量化": "quantize", "低秩": "low-rank", "适配器": "adapter",
    "像素": "pixel", "卷积": "convolution", "分类器": "classifier", "分类": "classify", "判断": "classify",
    "真假": "real", "真实": "real", "对齐": "alignment", "空白": "blank", "字符": "character", "路径": "path",
    "动态规划": "dynamic", "条件": "condition", "引导": "guidance", "多样性": "diversity", "时间步": "timestep",
    "跳过": "skip", "掩码": "mask", "遮住": "mask", "词序": "order", "顺序": "order", "频率": "frequency",
    "外推": "extrapolate", "草稿": "draft", "验证": "verify", "接受": "accept", "拒绝": "reject",
    "长度": "length", "上下文": "context", "饱和": "saturate", "稳定": "stable", "归一化": "normalise",
    "投影": "projection", "子空间": "subspace", "拼接": "concatenate", "嵌入": "embedding", "编码": "encode",
    "解码": "decode", "输出": "output", "输入": "input", "下一句": "next-sentence", "模式崩溃": "mode-collapse",
    "判别": "discriminate", "互信息": "mutual-information", "重参数化": "reparameterise",
    "可导": "differentiable", "可微": "differentiable", "散度": "divergence", "高斯": "gaussian",
    "查询": "query", "键": "key", "值": "value", "均值": "mean", "阈值": "threshold", "数值": "number",
    "模仿": "imitate", "复制": "copy", "交叉编码器": "cross-encoder", "双塔": "bi-encoder", "帧": "frame",
    "召回": "recall", "块": "chunk", "归纳偏置": "inductive bias", "复杂度": "complexity",
    "像素空间": "pixel space",
}

_NEG_EN = {
    "cannot", "neither", "never", "no", "none", "nor", "not", "nothing",
}
# These negate what follows them, not the clause so far: they open a new, negated clause.
_NEG_OPEN_EN = {
    "instead", "rather", "unlike", "without",
}
_NEG_OPEN_ZH = (
    "而不是", "代替", "取代",
)
_NEG_FALSE_EN = (
    "not only", "no matter", "whether or not", "no longer",
)
_NEG_ZH = (
    "并不", "并非", "不是", "不会", "不能", "不需要", "不用", "不必", "无需", "无须", "无法", "没有", "难以", "不", "没", "无",
    "非", "未",
)
# Words that contain a negation character but do not negate the clause.
_NEG_FALSE_ZH = (
    "不同", "不断", "不仅", "不只", "不但", "不少", "不错", "不久", "不管", "不过", "不然", "不得不", "不论", "无论", "非常", "除非",
    "是不是", "是否", "能不能", "会不会", "不光", "并非只", "不一样", "无穷", "不可靠", "不相关", "不稳定", "不确定", "不平衡", "不均衡",
    "无监督", "无标注", "无条件", "无分类器", "非线性", "非马尔可夫", "不一致", "不相等", "不等", "不匹配",
)
_CONJ_EN = {
    "although", "and", "because", "but", "or", "since", "so", "then", "therefore", "though", "thus",
    "where", "whereas", "whereby", "which", "while",
}
_CONJ_ZH = (
    "而且", "但是", "所以", "然后", "并且", "因为", "因此", "从而", "而", "但", "再",
)
_STOP_EN = {
    "a", "about", "also", "an", "any", "are", "as", "at", "be", "been", "being", "by", "can",
    "could", "did", "do", "does", "done", "e.g", "each", "etc", "even", "first", "for", "from",
    "get", "gets", "had", "has", "have", "having", "he", "her", "here", "his", "how", "i", "i.e",
    "in", "into", "is", "it", "its", "just", "like", "made", "make", "makes", "many", "may", "me",
    "might", "model", "models", "much", "must", "my", "of", "on", "one", "onto", "our", "over",
    "per", "shall", "she", "should", "some", "still", "such", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "thing", "things", "this", "those", "to", "too",
    "two", "under", "use", "used", "uses", "using", "very", "via", "was", "way", "ways", "we",
    "were", "what", "when", "who", "whom", "whose", "why", "will", "with", "within", "would", "you",
    "your",
}
_ZH_STOP = set("一上下与个中为之也了于从以们使其再去又及和在它对将就已很或所把是更最来的等而被让还这那都")
# Chinese comparatives "比 X 强": the adjective becomes the matching side term.
_ZH_COMPARATIVE = re.compile(
    r"(?<!对)比(?!较|如|例|率|特)([^，。；,.;！？]{1,15}?)([强弱快慢大小多少高低])"
)
_ZH_COMPARATIVE_TERM = {
    "强": "更强",
    "弱": "更弱",
    "快": "更快",
    "慢": "更慢",
    "大": "更多",
    "多": "更多",
    "高": "更多",
    "小": "更少",
    "少": "更少",
    "低": "更少",
}
# fmt: on
_BOUNDARY = "\u241e"


@lru_cache(maxsize=1)
def _tables() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    """Regexes that turn lexicon entries into placeholder tokens (longest first)."""
    sides: dict[str, list[str]] = defaultdict(list)
    for i, pair in enumerate(PAIRS):
        for s, terms in enumerate((pair.a, pair.b)):
            for term in terms:
                tok = f"\ue000s{i}_{s}\ue001"
                if tok not in sides[term]:
                    sides[term].append(tok)
    repl: dict[str, str] = {t: " " + " ".join(toks) + " " for t, toks in sides.items()}
    for term in _NEG_FALSE_ZH:
        repl.setdefault(term, " ")
    for term, concept in GLOSSARY.items():
        repl.setdefault(term, f" {concept} ")
    for term in _NEG_OPEN_ZH:
        repl.setdefault(term, " \ue000negopen\ue001 ")
    for term in _NEG_ZH:
        repl.setdefault(term, " \ue000neg\ue001 ")
    for term in _CONJ_ZH:
        repl.setdefault(term, f" {_BOUNDARY} ")
    en = sorted((t for t in repl if t.isascii()), key=len, reverse=True)
    zh = sorted((t for t in repl if not t.isascii()), key=len, reverse=True)
    en_re = re.compile(
        r"(?<![a-z0-9_-])(?:" + "|".join(re.escape(t) for t in en) + r")(?![a-z0-9_-])"
    )
    zh_re = re.compile("|".join(re.escape(t) for t in zh))
    return en_re, zh_re, repl


_TOKEN_RE = re.compile(
    r"\ue000[^\ue001]+\ue001|"
    + _BOUNDARY
    + r"|[a-z0-9][a-z0-9_'\-^()]*|[\u3400-\u9fff\uf900-\ufaff]+|[,;:.!?()\[\]，；：。！？、（）\n]"
)


def stem(word: str) -> str:
    w = word.lower().strip("'-_")
    for suffix in ("ations", "ation", "ings", "ing", "ers", "er", "ies", "es", "ed", "s", "ly"):
        if w.endswith(suffix) and len(w) - len(suffix) >= (3 if suffix == "s" else 4):
            w = w[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return w[:7]


@dataclass(frozen=True)
class Clause:
    sides: tuple[tuple[int, int, int], ...]  # (pair, side as written, position)
    negated: bool
    words: tuple[tuple[str, int], ...]  # (concept, position)

    def side_tokens(self, effective: bool) -> list[tuple[str, int]]:
        out = []
        for i, s, pos in self.sides:
            if effective and self.negated and not PAIRS[i].role:
                s = 1 - s
            out.append((f"\ue000{i}:{s}\ue001", pos))
        return out


def _linked() -> dict[int, set[int]]:
    """Pairs that share terms (increase/decrease and changes/constant) are not evidence for
    each other; a pair is never evidence for itself."""
    terms = [set(p.a) | set(p.b) for p in PAIRS]
    return {
        i: {j for j in range(len(PAIRS)) if i == j or terms[i] & terms[j]}
        for i in range(len(PAIRS))
    }


_LINKED = _linked()
# Generic direction words say little about what they describe when used as evidence for
# another pair ("more deterministic"), so their tokens are not used as concepts.
_NOT_EVIDENCE = {
    i for i, p in enumerate(PAIRS) if p.name in ("increase/decrease", "changes/constant")
}
POL_MIN = 0.5  # Jaccard of concepts an answer clause must share with a reference clause


def _normalise(text: str) -> str:
    low = text.lower().replace("\ue000", " ").replace("\ue001", " ").replace(_BOUNDARY, " ")
    for phrase in _NEG_FALSE_EN:
        low = low.replace(phrase, " ")
    low = low.replace("can't", "can not").replace("cannot", "can not").replace("n't", " not")
    low = _ZH_COMPARATIVE.sub(lambda m: m.group(1) + _ZH_COMPARATIVE_TERM[m.group(2)], low)
    en_re, zh_re, repl = _tables()
    low = en_re.sub(lambda m: repl[m.group(0)], low)
    return zh_re.sub(lambda m: repl[m.group(0)], low)


@lru_cache(maxsize=4096)
def clauses(text: str) -> tuple[Clause, ...]:
    """Clauses of ``text`` (simplified script) with their sides, polarity and concepts."""
    out: list[Clause] = []
    sides: list[tuple[int, int, int]] = []
    words: list[tuple[str, int]] = []
    neg = False

    def flush() -> None:
        nonlocal sides, words, neg
        if sides or words:
            out.append(Clause(tuple(sides), neg, tuple(words)))
        sides, words, neg = [], [], False

    def open_negated() -> None:
        nonlocal neg
        flush()
        neg = True

    for pos, tok in enumerate(_TOKEN_RE.findall(_normalise(text))):
        if tok.startswith("\ue000"):
            body = tok[1:-1]
            if body == "neg":
                neg = True
            elif body == "negopen":
                open_negated()
            else:
                i, s = body[1:].split("_")
                sides.append((int(i), int(s), pos))
        elif tok == _BOUNDARY or (len(tok) == 1 and not tok.isalnum()):
            flush()
        elif tok[0].isascii():
            if tok in _CONJ_EN:
                flush()
            elif tok in _NEG_EN:
                neg = True
            elif tok in _NEG_OPEN_EN:
                open_negated()
            elif tok not in _STOP_EN and len(tok) >= 2:
                words.append((stem(tok), pos))
        else:
            if len(tok) == 1 and tok not in _ZH_STOP:
                words.append((tok, pos))
            for k in range(len(tok) - 1):
                gram = tok[k : k + 2]
                if gram[0] not in _ZH_STOP and gram[1] not in _ZH_STOP:
                    words.append((gram, pos))
    flush()
    return tuple(out)


def _bindings(cls: tuple[Clause, ...]) -> dict[tuple[int, str], set[int]]:
    """(pair, concept) → the sides of that pair the concept is bound to."""
    bound: dict[tuple[int, str], set[int]] = defaultdict(set)
    for clause in cls:
        eff = {}
        for i, s, p in clause.sides:
            eff.setdefault(i, []).append((1 - s if clause.negated and not PAIRS[i].role else s, p))
        attrs = list(clause.words) + clause.side_tokens(effective=True)
        for i, occurrences in eff.items():
            present = {s for s, _p in occurrences}
            for concept, _pos in attrs:
                if concept.startswith("\ue000"):
                    j = int(concept[1:].split(":")[0])
                    if j in _LINKED[i] or j in _NOT_EVIDENCE:
                        continue
                if len(present) == 1:  # a clause naming both sides binds nothing
                    bound[(i, concept)].add(next(iter(present)))
    return bound


def _polarity_flips(answer: tuple[Clause, ...], reference: tuple[Clause, ...]) -> int:
    """Answer clauses that say what a reference clause says, with the opposite polarity."""
    ref_sets = [_polarity_view(c) for c in reference]
    flips = 0
    for clause in answer:
        words, negated = _polarity_view(clause)
        if len(words) < 2:
            continue
        scored = [
            (len(words & r) / len(words | r) if len(words & r) >= 2 else 0.0, neg)
            for r, neg in ref_sets
            if r
        ]
        best = max((o for o, _n in scored), default=0.0)
        if best < POL_MIN:
            continue
        close = [neg for o, neg in scored if o >= best - 0.1]
        if all(neg != negated for neg in close):
            flips += 1
    return flips


def _polarity_view(clause: Clause) -> tuple[set[str], bool]:
    """Concepts and polarity of a clause; a negation absorbed by a property ("not
    continuous" = "discrete") no longer counts as a negation."""
    absorbed = clause.negated and any(not PAIRS[i].role for i, _s, _p in clause.sides)
    words = {w for w, _p in clause.words} | {t for t, _p in clause.side_tokens(True)}
    return words, clause.negated and not absorbed


def _sides_named(cls: tuple[Clause, ...]) -> dict[int, set[int]]:
    """Pair → the sides a text names (after negation: "not continuous" names discrete)."""
    named: dict[int, set[int]] = defaultdict(set)
    for clause in cls:
        for i, s, _p in clause.sides:
            named[i].add(1 - s if clause.negated and not PAIRS[i].role else s)
    return named


def _substituted(answer: tuple[Clause, ...], reference: tuple[Clause, ...]) -> set[int]:
    """Pairs of which the answer names only one side and the reference only the other ("the
    decoder" for "the encoder", "past tokens" for "future tokens"): the answer put the
    opposite notion in its place, whatever it binds to. Generic direction words are left out:
    "larger" and "lower" describe too many different things for one text to oppose another."""
    a_named, r_named = _sides_named(answer), _sides_named(reference)
    return {
        i
        for i, sides in a_named.items()
        if i not in _NOT_EVIDENCE
        and len(sides) == 1
        and len(r_named.get(i, ())) == 1
        and sides != r_named[i]
    }


@dataclass(frozen=True)
class Contradiction:
    swaps: int  # opposite pairs whose bindings disagree with the reference
    strength: int  # sum over pairs of (mismatches - matches) where positive
    negations: int  # answer clauses whose polarity disagrees with a matching reference clause
    reasons: tuple[str, ...]


def compare(answer: str, reference: str, substitution: bool = True) -> Contradiction:
    """Contradictions between an answer and a reference (both in simplified script).
    ``substitution`` also counts a pair of which the two texts name opposite sides only; it
    suits whole texts, not a fragment compared with a claim made elsewhere in the text."""
    a_cls, r_cls = clauses(answer), clauses(reference)
    a_bound, r_bound = _bindings(a_cls), _bindings(r_cls)
    per_pair: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # [mismatches, matches]
    for key, sides in a_bound.items():
        ref = r_bound.get(key)
        if ref and len(sides) == 1 and len(ref) == 1:  # bound to both sides says nothing
            per_pair[key[0]][0 if not sides & ref else 1] += 1
    swapped = {i for i, (mis, match) in per_pair.items() if mis > match}
    if substitution:
        swapped |= _substituted(a_cls, r_cls)
    reasons = [PAIRS[i].name for i in sorted(swapped)]
    strength = sum(mis - match for mis, match in per_pair.values() if mis > match)
    swaps = len(reasons)
    negations = _polarity_flips(a_cls, r_cls)
    if negations:
        reasons.append("negation")
    return Contradiction(swaps, strength, negations, tuple(reasons))
