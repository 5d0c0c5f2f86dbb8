"""The moment detector: objection and move classifiers over multilingual sentence embeddings.

Each sentence is embedded in the multilingual USE space (English and Chinese meet there,
so an English example teaches the Chinese side too) and classified by a multinomial
logistic regression: one over the objection types plus ``none`` for customer sentences,
one over the moves plus ``none`` for rep sentences. Its softmax scores are probabilities
(calibrated on the training mix), and a label is reported when its score reaches the
kind's threshold. Consecutive sentences of one utterance with the same label become one
moment.

The detector follows the scikit-learn contract: ``__init__`` stores arguments, ``fit``
returns ``self``, learned state ends in ``_``. It is saved as constructor arguments (JSON)
plus weights (``.npz``, no pickle) and a ``version``: a hash of the training data and
arguments, which the catalog stores per call to know what is stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talktrack.models.moments.sentences import Sentence, split_sentences
from talktrack.models.moments.taxonomy import KINDS, NONE, LabelledExample

FORMAT = 1
OBJECTION_SCORE = "p_any"   # an objection is flagged on 1 - P(none) (in the version: calls labelled before are redone)
PARAMS_FILE = "params.json"
WEIGHTS_FILE = "weights.npz"
ROLE_KINDS = {"customer": ("objection",), "rep": ("move",), None: KINDS, "unknown": KINDS}
SOURCE_WEIGHTS = ("taxonomy", "generated", "coach")


class DetectorError(RuntimeError):
    """A detector used before fitting, loaded with the wrong embedder, or given bad input."""


@dataclass(frozen=True)
class Moment:
    """A detected objection or move: sentences ``sentence``..``last_sentence`` of one text, span ``start:end``."""

    kind: str
    label: str
    score: float
    sentence: int
    last_sentence: int
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "score": round(self.score, 4), "sentence": self.sentence,
                "last_sentence": self.last_sentence, "start": self.start, "end": self.end, "text": self.text}


class MomentDetector:
    """Objection/move classifier; ``embedder`` is any object with ``encode(texts)`` and ``name``.

    >>> detector = MomentDetector(embedder, objection_types=["price"], moves=["acknowledge"])  # doctest: +SKIP
    >>> detector.fit(taxonomy.examples).detect(["That's too expensive."], roles=["customer"])  # doctest: +SKIP
    [[Moment(kind='objection', label='price', score=0.93, sentence=0, ...)]]
    """

    def __init__(self, embedder=None, *, objection_types: Sequence[str] = (), moves: Sequence[str] = (),
                 objection_threshold: float = 0.5, move_threshold: float = 0.5, C: float = 30.0,
                 taxonomy_weight: float = 1.0, generated_weight: float = 1.0, coach_weight: float = 5.0,
                 max_iter: int = 3000) -> None:
        self.embedder = embedder
        self.objection_types = objection_types
        self.moves = moves
        self.objection_threshold = objection_threshold
        self.move_threshold = move_threshold
        self.C = C
        self.taxonomy_weight = taxonomy_weight
        self.generated_weight = generated_weight
        self.coach_weight = coach_weight
        self.max_iter = max_iter

    # -- scikit-learn contract -------------------------------------------------------------
    def get_params(self) -> dict:
        """Constructor arguments other than the embedder (JSON-ready)."""
        return {"objection_types": list(self.objection_types), "moves": list(self.moves),
                "objection_threshold": self.objection_threshold, "move_threshold": self.move_threshold,
                "C": self.C, "taxonomy_weight": self.taxonomy_weight, "generated_weight": self.generated_weight,
                "coach_weight": self.coach_weight, "max_iter": self.max_iter}

    def fit(self, examples: Sequence[LabelledExample]) -> MomentDetector:
        """Learn both classifiers from labelled sentences (taxonomy examples plus any labels)."""
        examples = list(examples)
        self._check_examples(examples)
        features = self.transform([e.text for e in examples])
        weights = np.array([self._source_weight(e.source) for e in examples], dtype=np.float64)
        self.classes_ = {"objection": (NONE, *self.objection_types), "move": (NONE, *self.moves)}
        self.coef_, self.intercept_ = {}, {}
        for kind in KINDS:
            targets = [e.label if e.kind == kind else NONE for e in examples]
            self.coef_[kind], self.intercept_[kind] = self._fit_kind(features, targets, weights, self.classes_[kind])
        self.embedder_name_ = str(getattr(self.embedder, "name", "unknown"))
        self.n_examples_ = {source: sum(e.source == source for e in examples) for source in SOURCE_WEIGHTS}
        self.version_ = self._version(examples)
        return self

    def _fit_kind(self, features: np.ndarray, targets: list[str], weights: np.ndarray,
                  classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.linear_model import LogisticRegression

        index = {label: i for i, label in enumerate(classes)}
        y = np.array([index[t] for t in targets])
        model = LogisticRegression(C=self.C, max_iter=self.max_iter)
        model.fit(features, y, sample_weight=weights)
        # shape: (n_classes, dim) in the order of ``classes`` (every class is present in the taxonomy)
        coef = np.zeros((len(classes), features.shape[1]), dtype=np.float32)
        intercept = np.zeros(len(classes), dtype=np.float32)
        coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
        return coef, intercept

    def _check_examples(self, examples: list[LabelledExample]) -> None:
        if self.embedder is None:
            raise DetectorError("MomentDetector needs an embedder (an object with encode(texts) and name)")
        known = {"objection": {NONE, *self.objection_types}, "move": {NONE, *self.moves}}
        for example in examples:
            if example.kind not in known or example.label not in known[example.kind]:
                raise DetectorError(f"labelled example {example.text[:40]!r}: kind {example.kind!r} / label "
                                    f"{example.label!r} is not in the taxonomy ({sorted(known.get(example.kind, []))})")
        for kind in KINDS:
            seen = {e.label for e in examples if e.kind == kind}
            lacking = sorted(known[kind] - seen)
            if lacking:
                raise DetectorError(f"training examples lack {kind} labels {lacking}; include the taxonomy examples")

    def _source_weight(self, source: str) -> float:
        weights = {"taxonomy": self.taxonomy_weight, "generated": self.generated_weight, "coach": self.coach_weight}
        if source not in weights:
            raise DetectorError(f"labelled example source {source!r}: expected one of {sorted(weights)}")
        return weights[source]

    def _version(self, examples: list[LabelledExample]) -> str:
        digest = hashlib.sha256()
        digest.update(json.dumps([self.get_params(), self.embedder_name_, FORMAT, OBJECTION_SCORE],
                                 sort_keys=True).encode())
        for line in sorted(f"{e.kind}\t{e.label}\t{e.source}\t{e.language}\t{e.text}" for e in examples):
            digest.update(line.encode("utf-8") + b"\n")
        return f"md-{digest.hexdigest()[:16]}"

    @property
    def version(self) -> str:
        self._check_fitted()
        return self.version_

    def _check_fitted(self) -> None:
        if not hasattr(self, "version_"):
            raise DetectorError("MomentDetector is not fitted: call fit(examples) or MomentDetector.load(dir)")

    # -- scoring ---------------------------------------------------------------------------
    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Features of sentences: (n, dim) unit-length multilingual embeddings."""
        if self.embedder is None:
            raise DetectorError("MomentDetector needs an embedder to score text")
        return np.asarray(self.embedder.encode(list(texts)), dtype=np.float32)

    def predict_proba_features(self, features: np.ndarray, kind: str) -> np.ndarray:
        """(n, n_classes) probabilities in the order of ``classes_[kind]``."""
        self._check_fitted()
        logits = features @ self.coef_[kind].T + self.intercept_[kind]
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

    def predict_proba(self, sentences: Sequence[str], kind: str) -> np.ndarray:
        return self.predict_proba_features(self.transform(sentences), kind)

    def best_labels(self, probs: np.ndarray, kind: str) -> tuple[list[str], np.ndarray]:
        """Per row: the most likely non-none label if the row's score reaches the threshold, else ``none``.

        An objection's score is the probability that the sentence is any objection (1 - P(none)):
        real buyers mix types ("we can't justify it for what we'd use" is price and need), and the
        best single type's share then stays under the threshold although the sentence is plainly an
        objection (measured on the hand-written dev set: flagging on P(any) ranks objections above
        non-objections better than the best type's probability does). A move's score stays the best
        move's probability: a rep sentence is graded as one move of a sequence."""
        threshold = self.objection_threshold if kind == "objection" else self.move_threshold
        best = probs[:, 1:].argmax(axis=1) + 1
        scores = 1.0 - probs[:, 0] if kind == "objection" else probs[np.arange(len(probs)), best]
        labels = [self.classes_[kind][b] if s >= threshold else NONE for b, s in zip(best, scores, strict=True)]
        return labels, scores

    # -- detection -------------------------------------------------------------------------
    def detect(self, texts: Sequence[str], languages: Sequence[str | None] | None = None,
               roles: Sequence[str | None] | None = None) -> list[list[Moment]]:
        """Moments per text: customer texts get objections, rep texts moves, unknown role both.

        ``languages`` (en/zh/mixed/None per text) is accepted for symmetry with the catalog; the
        splitter and the embedding space handle both languages without it.
        """
        self._check_fitted()
        texts = list(texts)
        roles = self._roles(roles, len(texts))
        _check_languages(languages, len(texts))
        split = [split_sentences(text) for text in texts]
        flat = [(i, s) for i, sentences in enumerate(split) for s in sentences]
        features = self.transform([s.text for _, s in flat])
        found: list[list[tuple[Sentence, str, str, float]]] = [[] for _ in texts]
        for kind in KINDS:
            rows = [r for r, (i, _) in enumerate(flat) if kind in ROLE_KINDS[roles[i]]]
            if not rows:
                continue
            labels, scores = self.best_labels(self.predict_proba_features(features[rows], kind), kind)
            for r, label, score in zip(rows, labels, scores, strict=True):
                if label != NONE:
                    i, sentence = flat[r]
                    found[i].append((sentence, kind, label, float(score)))
        return [_merge(text, _one_per_sentence(hits)) for text, hits in zip(texts, found, strict=True)]

    def explain(self, text: str, role: str | None = None, top: int = 3) -> list[dict]:
        """Per sentence of ``text``: the ``top`` labels with scores for each kind the role gets, and the
        label reported (``none`` when no score reaches the threshold) — what ``moments tag`` prints."""
        self._check_fitted()
        kinds = ROLE_KINDS[self._roles([role], 1)[0]]
        sentences = split_sentences(text)
        features = self.transform([s.text for s in sentences])
        out = [{"sentence": s.index, "start": s.start, "end": s.end, "text": s.text, "scores": {}, "labels": {}}
               for s in sentences]
        for kind in kinds:
            probs = self.predict_proba_features(features, kind) if sentences else np.zeros((0, 1))
            labels, _ = self.best_labels(probs, kind) if sentences else ([], None)
            for row, (p, label) in enumerate(zip(probs, labels, strict=True)):
                order = np.argsort(-p)[:top]
                out[row]["scores"][kind] = [(self.classes_[kind][i], round(float(p[i]), 4)) for i in order]
                out[row]["labels"][kind] = label
        return out

    @staticmethod
    def _roles(roles, n: int) -> list[str | None]:
        roles = [None] * n if roles is None else list(roles)
        if len(roles) != n:
            raise DetectorError(f"roles: {len(roles)} given for {n} texts")
        bad = sorted({str(r) for r in roles if r not in ROLE_KINDS})
        if bad:
            raise DetectorError(f"roles {bad}: expected rep, customer, unknown or None")
        return roles

    # -- persistence -----------------------------------------------------------------------
    def save(self, directory: Path | str) -> Path:
        """Write ``params.json`` (arguments, classes, version) and ``weights.npz``; atomic per file."""
        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT, "class": "MomentDetector", "params": self.get_params(), "version": self.version_,
                "embedder": self.embedder_name_, "classes": {k: list(v) for k, v in self.classes_.items()},
                "n_examples": self.n_examples_}
        arrays = {f"{kind}_{part}": getattr(self, f"{part}_")[kind] for kind in KINDS for part in ("coef", "intercept")}
        tmp = directory / (WEIGHTS_FILE + ".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(directory / WEIGHTS_FILE)
        tmp_json = directory / (PARAMS_FILE + ".tmp")
        tmp_json.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        tmp_json.replace(directory / PARAMS_FILE)
        return directory

    @classmethod
    def load(cls, directory: Path | str, embedder) -> MomentDetector:
        """Rebuild a saved detector; ``embedder`` must be the space it was trained in."""
        directory = Path(directory)
        meta = _read_meta(directory)
        detector = cls(embedder, **meta["params"])
        name = str(getattr(embedder, "name", "unknown"))
        if name != meta["embedder"]:
            raise DetectorError(f"moment model {directory}: trained with embedder {meta['embedder']!r}, "
                                f"given {name!r}; retrain it (talktrack moments train)")
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as weights:
            detector.coef_ = {kind: weights[f"{kind}_coef"] for kind in KINDS}
            detector.intercept_ = {kind: weights[f"{kind}_intercept"] for kind in KINDS}
        detector.classes_ = {kind: tuple(meta["classes"][kind]) for kind in KINDS}
        detector.embedder_name_ = meta["embedder"]
        detector.n_examples_ = meta["n_examples"]
        detector.version_ = meta["version"]
        return detector


def _read_meta(directory: Path) -> dict:
    path = directory / PARAMS_FILE
    if not path.is_file() or not (directory / WEIGHTS_FILE).is_file():
        raise DetectorError(f"moment model {directory}: {PARAMS_FILE} and {WEIGHTS_FILE} expected there")
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT or meta.get("class") != "MomentDetector":
        raise DetectorError(f"moment model {path}: format {meta.get('format')!r} of {meta.get('class')!r} "
                            f"is not MomentDetector format {FORMAT}")
    return meta


def _check_languages(languages, n: int) -> None:
    if languages is None:
        return
    languages = list(languages)
    if len(languages) != n:
        raise DetectorError(f"languages: {len(languages)} given for {n} texts")
    bad = sorted({str(lang) for lang in languages if lang not in ("en", "zh", "mixed", None)})
    if bad:
        raise DetectorError(f"languages {bad}: expected en, zh, mixed or None")


def _one_per_sentence(hits: list[tuple[Sentence, str, str, float]]) -> list[tuple[Sentence, str, str, float]]:
    """With both kinds scored (role unknown), a sentence keeps its most confident label."""
    best: dict[int, tuple[Sentence, str, str, float]] = {}
    for hit in hits:
        index = hit[0].index
        if index not in best or hit[3] > best[index][3]:
            best[index] = hit
    return [best[i] for i in sorted(best)]


def _merge(text: str, hits: list[tuple[Sentence, str, str, float]]) -> list[Moment]:
    """Consecutive sentences with the same kind and label become one moment (the best score)."""
    moments: list[Moment] = []
    for sentence, kind, label, score in hits:
        last = moments[-1] if moments else None
        if last and last.kind == kind and last.label == label and last.last_sentence == sentence.index - 1:
            moments[-1] = Moment(kind, label, max(last.score, score), last.sentence, sentence.index, last.start,
                                 sentence.end, text[last.start:sentence.end])
        else:
            moments.append(Moment(kind, label, score, sentence.index, sentence.index, sentence.start, sentence.end,
                                  sentence.text))
    return moments
