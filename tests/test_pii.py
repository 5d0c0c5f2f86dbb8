"""PII masking: each kind caught, checksums respected, ordinary numbers untouched, words kept in step."""

from __future__ import annotations

import json

import pytest

from talktrack.core.config import PiiSettings, load_settings
from talktrack.core.records import Transcript, TranscriptSpeaker, TranscriptUtterance, Word
from talktrack.pipelines.speech.align import join_words
from talktrack.pipelines.speech.pii import (
    classify_number,
    find_pii,
    id_card_valid,
    luhn_valid,
    redact_text,
    redact_transcript,
    redact_utterance,
)

SETTINGS = PiiSettings()
VALID_ID = "11010519491231002X"  # the textbook example, check character X
VALID_ID_DIGIT = "440524198001010013"  # also Luhn-valid: the ID rule must win
VALID_CARD = "6222 0212 3456 7894"  # Luhn-valid
VISA_TEST = "4111 1111 1111 1111"


def test_checksums():
    assert id_card_valid(VALID_ID) and id_card_valid(VALID_ID.lower()) and id_card_valid(VALID_ID_DIGIT)
    assert not id_card_valid("110105194912310021")  # wrong check character
    assert not id_card_valid("110105194913310026")  # month 13
    assert luhn_valid(VISA_TEST.replace(" ", "")) and luhn_valid(VALID_CARD.replace(" ", ""))
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("call me at 138 1234 5678 tomorrow", "PHONE"),
        ("我的手机号是138-1234-5678，谢谢", "PHONE"),
        ("手机13812345678", "PHONE"),
        ("reach us on +86 138 1234 5678", "PHONE"),
        ("our London office is +44 20 7946 0958.", "PHONE"),
        ("My number is (415) 555-0100, thanks.", "PHONE"),
        ("call 415-555-0100 or", "PHONE"),
        ("座机010-12345678", "PHONE"),
        ("my phone is 82345678", "PHONE"),
        ("it's five five five one two three four", "PHONE"),
        ("my cell is double five five, one two three, four five six seven", "PHONE"),
        ("电话一三八一二三四五六七八", "PHONE"),
        ("You can reach me at 5, 5, 5, 1, 2, 3, 4, 5, 6, 7", "PHONE"),  # how Whisper writes dictation
        ("mail dana.park@northwind-demo.example now", "EMAIL"),
        ("邮箱是zhang.san@example.com。", "EMAIL"),
        ("write to john dot smith at acme dot com please", "EMAIL"),
        (f"身份证号{VALID_ID}。", "ID_CARD"),
        (f"ID {VALID_ID_DIGIT} on file", "ID_CARD"),
        (f"card number {VALID_CARD} expires", "BANK_CARD"),
        (f"卡号{VISA_TEST.replace(' ', '')}", "BANK_CARD"),
    ],
)
def test_each_kind_is_masked(text, kind):
    masked, counts = redact_text(text, SETTINGS)
    assert f"[{kind}]" in masked, masked
    assert counts == {kind.lower(): 1}
    assert not any(ch.isdigit() for ch in masked.replace("[", "").split(f"[{kind}]")[0][-3:])


@pytest.mark.parametrize(
    "text",
    [
        "It costs $1,299.99 per seat, about 30 hours of work.",
        "We start on 2024-03-15 at 10:30 and grew 12.5% to 3.5 million.",
        "Our 3000 people and 5000万 revenue; 2023 2024 were good years.",
        "Order ID: 3348917502 was shipped.",  # a bare 10-digit id is not a phone
        "The reference 110105194912310021 is not an ID (bad check character).",
        "Card 4111 1111 1111 1112 fails Luhn.",
        "我们有3000人，年营收5000万，预算20万。",
        "one two three, let's go",
        "We ranked them 1, 2, 3 and shipped in 2019, 2020, 2021, 2022.",
        "Meet at the office at five.",
    ],
)
def test_ordinary_numbers_and_invalid_checksums_are_untouched(text):
    assert redact_text(text, SETTINGS) == (text, {})


def test_number_classification_rules():
    assert classify_number(["138", "1234", "5678"]) == "phone"
    assert classify_number(["2024", "03", "15"]) is None
    assert classify_number(["8613812345678"]) == "phone"
    assert classify_number([VALID_ID]) == "id_card"
    assert classify_number(VISA_TEST.split()) == "bank_card"
    assert classify_number(["4155550100"]) is None  # no layout, no phone word
    assert classify_number(["4155550100"], context="call me on ") == "phone"


def test_mask_and_kinds_are_configurable():
    settings = PiiSettings(mask="<{KIND}>", kinds=("email",))
    masked, counts = redact_text("mail a@b.co or call 138 1234 5678", settings)
    assert masked == "mail <EMAIL> or call 138 1234 5678" and counts == {"email": 1}
    assert redact_text("a@b.co", PiiSettings(mask="***"))[0] == "***"
    spoken_off = PiiSettings(spoken_digits=False)
    assert redact_text("five five five one two three four", spoken_off)[1] == {}


def test_settings_defaults_come_from_yaml():
    pii = load_settings(environ={}).pii
    assert pii.redact is True and set(pii.kinds) == {"phone", "email", "id_card", "bank_card"}
    assert pii.mask == "[{KIND}]"


def _utterance(tokens: list[str], start: float = 0.0) -> TranscriptUtterance:
    words = [Word(start=start + i * 0.4, end=start + i * 0.4 + 0.3, word=t.strip(), probability=0.9) for i, t in enumerate(tokens)]
    return TranscriptUtterance(start=words[0].start, end=words[-1].end, speaker="SPEAKER_01", text=join_words(tokens), words=words)


def test_words_of_a_masked_span_fold_into_one_masked_word():
    utterance = _utterance([" Sure,", " it's", " 138", " 1234", " 5678.", " And", " mail", " me", " at", " x@y.com."])
    masked, counts = redact_utterance(utterance, SETTINGS)
    assert counts == {"phone": 1, "email": 1}
    assert masked.text == "Sure, it's [PHONE]. And mail me at [EMAIL]."
    tokens = [w.word for w in masked.words]
    assert tokens == ["Sure,", "it's", "[PHONE].", "And", "mail", "me", "at", "[EMAIL]."]
    phone = masked.words[2]
    assert (phone.start, phone.end) == (utterance.words[2].start, utterance.words[4].end)
    assert " ".join(tokens) == masked.text  # words still join to the text
    assert not any(ch.isdigit() for w in masked.words for ch in w.word)


def test_chinese_words_are_masked_with_the_text():
    tokens = ["我的", "手机", "是", "138", "1234", "5678", "，", "身份证", VALID_ID[:9], VALID_ID[9:], "。"]
    masked, counts = redact_utterance(_utterance(tokens), SETTINGS)
    assert masked.text == "我的手机是[PHONE]，身份证[ID_CARD]。"
    assert counts == {"phone": 1, "id_card": 1}
    assert "".join(w.word for w in masked.words) == masked.text


def test_spoken_digits_fold_many_words():
    tokens = [" call", " five", " five", " five,", " one", " two", " three", " four", " please"]
    masked, counts = redact_utterance(_utterance(tokens), SETTINGS)
    assert masked.text == "call [PHONE] please" and counts == {"phone": 1}
    assert [w.word for w in masked.words] == ["call", "[PHONE]", "please"]


def test_a_clean_utterance_is_returned_as_is():
    utterance = _utterance([" We", " have", " 30", " people."])
    masked, counts = redact_utterance(utterance, SETTINGS)
    assert masked is utterance and counts == {}


def test_real_customer_service_dialogue_abcd(shared_data):
    """ABCD's scenarios carry an e-mail, a US phone number and a 10-digit order id: only the first two go."""
    convo = json.loads((shared_data / "text" / "abcd" / "abcd_sample.json").read_text())[0]
    personal = convo["scenario"]["personal"]
    order_id = convo["scenario"]["order"]["order_id"]
    lines = [text for speaker, text in convo["original"] if speaker != "action"]
    lines.append(f"sure, my phone is {personal['phone']}")
    masked = [redact_text(line, SETTINGS)[0] for line in lines]
    joined = "\n".join(masked)
    assert personal["email"] not in joined and personal["phone"] not in joined
    assert "[EMAIL]" in joined and "[PHONE]" in joined
    assert order_id in joined  # an order id is not personal data under these rules


def test_a_whole_transcript_reports_counts_never_values():
    transcript = Transcript(
        speakers=[TranscriptSpeaker(speaker="SPEAKER_01")],
        utterances=[_utterance([" mail", " a@b.com"]), _utterance([" call", " 13812345678"], start=5.0)],
    )
    masked, counts = redact_transcript(transcript, SETTINGS)
    assert counts == {"email": 1, "phone": 1}
    dumped = masked.model_dump_json()
    assert "a@b.com" not in dumped and "13812345678" not in dumped


def test_find_pii_spans_are_ordered_and_disjoint():
    text = f"a@b.com 138 1234 5678 {VALID_ID} {VISA_TEST}"
    spans = find_pii(text)
    assert [s.kind for s in spans] == ["email", "phone", "id_card", "bank_card"]
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))
