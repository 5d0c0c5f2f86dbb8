"""Chinese downstream of the multilingual model: script, language codes, sentences, PII in spoken numerals.

The strings are the shapes Whisper base wrote for Mandarin speech (Traditional characters without a
prompt, dictated numbers in comma-separated groups, ASCII question marks after Chinese text).
"""

from __future__ import annotations

import pytest

from talktrack.core.config import PiiSettings
from talktrack.models.chinese import normalise_language, to_simplified
from talktrack.models.moments.sentences import split_sentences
from talktrack.pipelines.speech.pii import redact_text


def test_traditional_output_becomes_simplified_and_english_words_stay():
    assert to_simplified("廣州市 佛地產 中間協會分析") == "广州市 佛地产 中间协会分析"
    assert to_simplified("這個 ROI 我們 check 一下") == "这个 ROI 我们 check 一下"


@pytest.mark.parametrize(("tag", "code"), [("zh-CN", "zh"), ("zh_TW", "zh"), ("cmn", "zh"), ("Mandarin", "zh"),
                                           ("EN", "en"), ("en-US", "en"), ("", None), (None, None)])
def test_language_tags_from_a_crm_map_to_whisper_codes(tag, code):
    assert normalise_language(tag) == code


def test_sentences_split_on_chinese_and_ascii_terminators_in_mixed_text():
    text = "这个 ROI 我们 check 一下。好吗?价格是3.5万，下周再说…他说：“太贵了！”"
    assert [s.text for s in split_sentences(text)] == [
        "这个 ROI 我们 check 一下。", "好吗?", "价格是3.5万，下周再说…", "他说：“太贵了！”"]


@pytest.mark.parametrize("said", [
    "我的手机号是一三八一二三四五六七八",
    "手机一三八，一二三四，五六七八。",        # pauses written as commas
    "号码幺三八、幺二三四、五六七八",          # 幺 for 1, enumeration commas
    "你打幺八六 零零幺二 三四五六",
    "我手机是13812345678",
])
def test_a_mobile_number_spoken_in_chinese_numerals_is_masked(said):
    masked, counts = redact_text(said, PiiSettings())
    assert counts == {"phone": 1} and "[PHONE]" in masked
    assert not any(c in masked for c in "三四五六七八")


@pytest.mark.parametrize("said", ["第一，二，三，四，五，六，七点", "我们买了一二，三四，五六台", "七天后再谈",
                                  "价格是一百三十八万，三年一共九十九万"])
def test_lists_quantities_and_prices_in_numerals_are_left_alone(said):
    assert redact_text(said, PiiSettings()) == (said, {})


def test_a_transcript_that_only_echoes_the_prompt_is_dropped_and_traditional_becomes_simplified():
    from talktrack.models.transcription import TranscribedWord, _finish_words

    echoed = [TranscribedWord(0.0, 1.0, "以下是普通话的", 0.4), TranscribedWord(1.0, 1.5, "句子。", 0.4)]
    assert _finish_words(echoed, "zh", "以下是普通话的句子。", True) == []
    tail = [TranscribedWord(0.0, 0.5, "在哪里呢?", 0.5), *echoed]
    assert [w.word for w in _finish_words(tail, "zh", "以下是普通话的句子。", True)] == ["在哪里呢?"]
    heard = [TranscribedWord(0.0, 1.0, "廣州市", 0.9)]
    assert [w.word for w in _finish_words(heard, "zh", "以下是普通话的句子。", True)] == ["广州市"]
    assert _finish_words(heard, "zh", None, False) == heard
