"""The SOP book: ``configs/sops.yaml`` loaded and checked against the stages and key questions.

A wrong SOP file would silently make every call "miss" a step, so the file is validated
whole on load: unknown keys are refused, every step a SOP lists exists, every step's key
question and every SOP's stage is known, each stage has exactly one SOP that asks all of the
stage's key questions, and every step has example phrasings in English and in Chinese. The
error names the file and the key, e.g.::

    >>> load_sop_book(settings, "bad.yaml")
    Traceback (most recent call last):
    SopConfigError: bad.yaml: steps.budget.key_question = 'budgett': not a known key question (...)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

LANGUAGES = ("en", "zh")


class SopConfigError(ValueError):
    """An SOP file that cannot be used; the message names the file, the key and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Examples(_Strict):
    en: list[str] = Field(min_length=1)
    zh: list[str] = Field(min_length=1)


class _StepSpec(_Strict):
    name_en: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    key_question: str | None = None
    examples: _Examples
    answers: _Examples | None = None     # how customers answer the step's question (key-question steps)


class _SopSpec(_Strict):
    name_en: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    stage: str | None = None
    channels: list[str] = []
    steps: list[str] = Field(min_length=1)


class _SopFile(_Strict):
    steps: dict[str, _StepSpec]
    sops: dict[str, _SopSpec]
    background: _Examples | None = None
    background_answers: _Examples | None = None


@dataclass(frozen=True)
class SopStep:
    """One required step: what it is called, which key question it asks (if any), how it sounds."""

    key: str
    name_en: str
    name_zh: str
    key_question: str | None
    examples: Mapping[str, tuple[str, ...]]  # language → example phrasings
    answers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # language → customer answers

    def example_for(self, language: str | None) -> str:
        """The first example phrasing in ``language`` (Chinese for zh/mixed, else English)."""
        return self.examples["zh" if _is_chinese(language) else "en"][0]


@dataclass(frozen=True)
class Sop:
    key: str
    name_en: str
    name_zh: str
    stage: str | None          # None: a scenario SOP, added by channel or by name
    channels: tuple[str, ...]
    steps: tuple[SopStep, ...]


@dataclass(frozen=True)
class SopBook:
    """All SOPs of a deployment; :meth:`steps_for` says which steps a call must contain."""

    path: str
    sops: Mapping[str, Sop]
    steps: Mapping[str, SopStep]
    background: Mapping[str, tuple[str, ...]]  # language → sentences that are no step (may be empty)
    background_answers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # answers that cover nothing

    def stage_sop(self, stage: str) -> Sop:
        for sop in self.sops.values():
            if sop.stage == stage:
                return sop
        raise KeyError(f"no SOP for stage {stage!r} in {self.path} (stages with one: {self.stages()})")

    def stage_steps(self) -> list[str]:
        """Keys of the steps some stage SOP requires (scenario-only steps excluded)."""
        return list(dict.fromkeys(step.key for sop in self.sops.values() if sop.stage for step in sop.steps))

    def stages(self) -> list[str]:
        return [sop.stage for sop in self.sops.values() if sop.stage]

    def applicable(self, stage: str, channel: str | None = None, extra: Sequence[str] = ()) -> list[Sop]:
        """The stage SOP, then scenario SOPs for ``channel``, then those named in ``extra``."""
        unknown = [key for key in extra if key not in self.sops]
        if unknown:
            raise KeyError(f"unknown SOP {unknown[0]!r}; known: {sorted(self.sops)}")
        chosen = [self.stage_sop(stage)]
        chosen += [s for s in self.sops.values() if s.stage is None and channel and channel in s.channels]
        chosen += [self.sops[key] for key in extra if self.sops[key] not in chosen]
        return chosen

    def steps_for(self, stage: str, channel: str | None = None, extra: Sequence[str] = ()) -> list[SopStep]:
        steps = [step for sop in self.applicable(stage, channel, extra) for step in sop.steps]
        return list({step.key: step for step in steps}.values())


def bundled_sop_path() -> Path:
    return Path(str(resources.files("talktrack.configs") / "sops.yaml"))


def load_sop_book(settings, path: str | Path | None = None) -> SopBook:
    """Read and validate the SOP file (``settings.semantic.sop.file`` or the bundled one)."""
    path = Path(path or settings.semantic.sop.file or bundled_sop_path()).expanduser()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SopConfigError(f"{path}: cannot read the SOP file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SopConfigError(f"{path}: not valid YAML ({exc})") from None
    try:
        spec = _SopFile.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise SopConfigError(f"{path}: {_first_error(exc)}") from None
    _check_references(spec, settings, path)
    return _build(spec, path)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    if error["type"] == "missing" and error["loc"][-1] in LANGUAGES:
        return f"{where}: missing; every step needs example phrasings in both {' and '.join(LANGUAGES)}"
    return f"{where}: {error['msg']}"


def _check_references(spec: _SopFile, settings, path: Path) -> None:
    known_questions = set(settings.key_questions)
    stages = {stage.key: stage for stage in settings.stages}
    for key, step in spec.steps.items():
        if step.key_question is not None and step.key_question not in known_questions:
            raise SopConfigError(f"{path}: steps.{key}.key_question = {step.key_question!r}: not a known key "
                                 f"question (known: {sorted(known_questions)})")
        for language in LANGUAGES:
            if not all(text.strip() for text in getattr(step.examples, language)):
                raise SopConfigError(f"{path}: steps.{key}.examples.{language}: an example phrasing is empty")
    for key, sop in spec.sops.items():
        _check_sop(key, sop, spec, stages, path)
    for stage in stages:
        owners = [key for key, sop in spec.sops.items() if sop.stage == stage]
        if len(owners) != 1:
            raise SopConfigError(f"{path}: stage {stage!r} needs exactly one SOP with 'stage: {stage}', "
                                 f"found {owners or 'none'}")


def _check_sop(key: str, sop: _SopSpec, spec: _SopFile, stages: dict, path: Path) -> None:
    if sop.stage is not None and sop.stage not in stages:
        raise SopConfigError(f"{path}: sops.{key}.stage = {sop.stage!r}: not a known stage (known: {list(stages)})")
    for step in sop.steps:
        if step not in spec.steps:
            raise SopConfigError(f"{path}: sops.{key}.steps: {step!r} is not defined under 'steps' "
                                 f"(defined: {sorted(spec.steps)})")
    if len(set(sop.steps)) != len(sop.steps):
        raise SopConfigError(f"{path}: sops.{key}.steps: a step is listed twice")
    if sop.stage is not None:
        asked = {spec.steps[step].key_question for step in sop.steps}
        missing = [kq for kq in stages[sop.stage].key_questions if kq not in asked]
        if missing:
            raise SopConfigError(f"{path}: sops.{key}: stage {sop.stage!r} has key questions {missing} that no "
                                 "step of this SOP asks")


def _build(spec: _SopFile, path: Path) -> SopBook:
    steps = {key: SopStep(key=key, name_en=s.name_en, name_zh=s.name_zh, key_question=s.key_question,
                          examples=_texts(s.examples), answers=_texts(s.answers))
             for key, s in spec.steps.items()}
    sops = {key: Sop(key=key, name_en=s.name_en, name_zh=s.name_zh, stage=s.stage, channels=tuple(s.channels),
                     steps=tuple(steps[k] for k in s.steps))
            for key, s in spec.sops.items()}
    return SopBook(path=str(path), sops=sops, steps=steps, background=_texts(spec.background),
                   background_answers=_texts(spec.background_answers))


def _texts(examples: _Examples | None) -> dict[str, tuple[str, ...]]:
    """language → stripped phrasings (empty tuples when the section is absent)."""
    return {lang: tuple(t.strip() for t in getattr(examples, lang)) if examples else () for lang in LANGUAGES}


def _is_chinese(language: str | None) -> bool:
    return bool(language) and not language.lower().startswith("en")
