"""Personas of the virtual customer, and how a real customer line is fitted to one.

The customer's lines are real customer utterances of the corpus. A persona (analytical,
skeptical, busy executive, friendly, ...) chooses among the candidates: each candidate gets
``cosine(line, persona trait centroid) + LENGTH_WEIGHT * length fit`` and one of the best
``top_k`` is drawn, so two drills with one scenario do not replay the same script. A
pluggable :class:`LineGenerator` may then rephrase the line; the default (``none``) keeps
the real words, which is what a rep should practise against.

Example::

    fitter = PersonaFitter(embedder)
    index = fitter.choose(persona, "en", texts, vectors, rng)   # position in texts
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from talktrack.core.config import DrillGeneratorSettings

LENGTH_WEIGHT = 0.15
_CJK = re.compile(r"[\u3400-\u9fff]")


class Persona(BaseModel):
    """A customer persona: names, preferred line length, trait phrasings and an opening lead-in per language."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    name_en: str
    name_zh: str
    length: Literal["short", "medium", "long"] = "medium"
    traits: dict[str, list[str]] = Field(min_length=1)
    lead_in: dict[str, str] = {}


def text_units(text: str) -> int:
    """Latin words plus Chinese characters / 2 (a Chinese word is about two characters)."""
    cjk = len(_CJK.findall(text))
    return len(re.findall(r"[A-Za-z0-9']+", text)) + (cjk + 1) // 2


class PersonaFitter:
    """Ranks real candidate lines by how well they fit a persona (trait similarity and length)."""

    def __init__(self, embedder, *, top_k: int = 4) -> None:
        self.embedder = embedder
        self.top_k = top_k
        self._centroids: dict[tuple[str, str], np.ndarray] = {}

    def centroid(self, persona: Persona, language: str) -> np.ndarray:
        key = (persona.key, language)
        if key not in self._centroids:
            phrasings = persona.traits.get(language) or next(iter(persona.traits.values()))
            mean = self.embedder.encode(phrasings).mean(axis=0)
            self._centroids[key] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        return self._centroids[key]

    def fit_scores(self, persona: Persona, language: str, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Per candidate: trait cosine + LENGTH_WEIGHT * length fit (length fit in [0, 1])."""
        trait = np.asarray(vectors, dtype=np.float32) @ self.centroid(persona, language)
        return trait + LENGTH_WEIGHT * length_fit(persona.length, [text_units(t) for t in texts])

    def choose(self, persona: Persona, language: str, texts: Sequence[str], vectors: np.ndarray,
               rng: np.random.Generator, exclude: set[int] = frozenset()) -> int:
        """The position of the chosen line: drawn among the ``top_k`` best fits not in ``exclude``."""
        if not len(texts):
            raise ValueError("no candidate lines to choose from")
        scores = self.fit_scores(persona, language, texts, vectors)
        order = [int(i) for i in np.argsort(-scores) if int(i) not in exclude] or [int(np.argmax(scores))]
        return order[int(rng.integers(min(self.top_k, len(order))))]


def length_fit(preference: str, lengths: Sequence[int]) -> np.ndarray:
    """1 for the candidates whose length rank suits the preference best, 0 for the worst."""
    lengths = np.asarray(lengths, dtype=float)
    if len(lengths) < 2:
        return np.ones(len(lengths))
    rank = lengths.argsort().argsort() / (len(lengths) - 1)  # 0 = shortest
    if preference == "short":
        return 1.0 - rank
    if preference == "long":
        return rank
    return 1.0 - 2.0 * np.abs(rank - 0.5)


# -- rephrasing --------------------------------------------------------------------------
class LineGenerator(Protocol):
    name: str

    def rephrase(self, text: str, persona: Persona, language: str) -> str:
        """The line in the persona's voice, same meaning and language."""
        ...


class KeepWording:
    """The default: the real customer's words, unchanged."""

    name = "none"

    def rephrase(self, text: str, persona: Persona, language: str) -> str:
        return text


class TransformersGenerator:
    """A local ``transformers`` text-generation model (a directory; never a hub id) that rephrases lines.

    Loaded on the first :meth:`rephrase`. An empty or multi-line generation keeps its first
    non-empty line; an empty one keeps the real line (the caller sees ``generator`` in the result).
    """

    def __init__(self, model_path: str | Path, *, max_new_tokens: int) -> None:
        self.model_path = Path(model_path)
        self.max_new_tokens = max_new_tokens
        self.name = f"transformers:{self.model_path.name}"
        self._pipeline = None

    def _load(self):
        if self._pipeline is None:
            try:
                from transformers import pipeline
            except ImportError as exc:
                raise RuntimeError("generator kind 'transformers' needs the transformers package") from exc
            self._pipeline = pipeline("text-generation", model=str(self.model_path),
                                      model_kwargs={"local_files_only": True})
        return self._pipeline

    def rephrase(self, text: str, persona: Persona, language: str) -> str:
        name = persona.name_zh if language == "zh" else persona.name_en
        prompt = (f"Rephrase what a customer ({name}) says in a sales call, same meaning, same language, "
                  f"one sentence.\nOriginal: {text}\nRephrased:")
        out = self._load()(prompt, max_new_tokens=self.max_new_tokens, do_sample=False,
                           return_full_text=False)[0]["generated_text"]
        line = next((part.strip() for part in out.splitlines() if part.strip()), "")
        return line or text


def make_generator(options: DrillGeneratorSettings) -> LineGenerator:
    """The generator ``settings.drills.generator`` names: ``none`` keeps real wording; ``transformers``
    needs ``model_path``, a local model directory."""
    if options.kind == "none":
        return KeepWording()
    model_path = options.model_path
    if not model_path or not (Path(model_path) / "config.json").is_file():
        raise ValueError(f"drills.generator.model_path = {model_path!r}: expected a local transformers "
                         "model directory (with config.json); models are never fetched from a hub")
    return TransformersGenerator(model_path, max_new_tokens=options.max_new_tokens)
