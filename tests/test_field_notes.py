"""Field notes read like a manager (issue 16 item 5): hand-written notes, none of them in the graded set
(evaluation/real_phrasing/field_notes.yaml), each asserting the fields a manager would write down.

The rules alone (no detector: it only adds a type at a confident score, see notes.DETECTOR_MIN_SCORE),
so these run in well under a second; the detector's part is graded by tests/test_real_notes_search.py.
"""

from __future__ import annotations

from datetime import date

import pytest

from talktrack.models.moments.dates import find_dates
from talktrack.models.moments.notes import extract_notes, find_objections

WEDNESDAY = date(2025, 10, 15)


def _people(text: str) -> set[tuple]:
    return {(p.name, p.title, p.role) for p in extract_notes(text, None, WEDNESDAY).people}


def test_english_roles_said_by_a_verb():
    note = ("Met Nina Patel, head of member care at Larkspur Bank. She'll walk her boss through it herself. Their "
            "COO, Tom Kraus, would rubber-stamp it, but finance director Omar Reyes holds the purse strings. "
            "Procurement officer Lena Vogt handles the vendor paperwork. Her 20 agents would be the ones using it. "
            "Sending the ROI pack the week after next.")
    notes = extract_notes(note, None, WEDNESDAY)
    assert {(p.name, p.title, p.role) for p in notes.people} == {
        ("Nina Patel", "head of member care", "champion"), ("Tom Kraus", "COO", "decision_maker"),
        ("Omar Reyes", "finance director", "economic_buyer"), ("Lena Vogt", "Procurement officer", "procurement"),
        (None, "agents", "user")}
    assert notes.next_action.date == "2025-10-27"  # the Monday two weeks on


def test_a_cue_that_names_the_next_person_is_not_the_speakers():
    """"Erik says anything above 25k goes to the group CFO": the group CFO holds the budget, Erik likes it."""
    people = _people("Plant manager Erik Lund likes it. Erik says anything above 25k goes to the group CFO in Oslo.")
    assert people == {("Erik Lund", "Plant manager", "champion"), (None, "group CFO", "economic_buyer")}
    people = _people("Sarah Okoye (Director of Revenue Ops) doesn't own the budget though, the CRO, Jim Haskell, does.")
    assert ("Jim Haskell", "CRO", "economic_buyer") in people
    assert ("Sarah Okoye", "Director of Revenue Ops", "influencer") in people


def test_chinese_names_with_titles_and_roles_said_by_a_verb():
    note = ("今天见了远帆物流的客服总监罗总监，她很认可，手下30个坐席以后都要用。不过预算在财务副总裁邹总手里，"
            "超过20万的采购要集团CFO孔维签字。真正做决定的是总经理葛建新。下下周一前把报价发给罗总监。")
    notes = extract_notes(note, None, WEDNESDAY)
    assert {(p.name, p.title, p.role) for p in notes.people} == {
        ("罗总监", "客服总监", "champion"), (None, "坐席", "user"), ("邹总", "财务副总裁", "economic_buyer"),
        ("孔维", "集团CFO", "economic_buyer"), ("葛建新", "总经理", "decision_maker")}
    assert notes.next_action.date == "2025-10-27"


def test_chinese_names_are_not_words_that_start_with_a_surname():
    """"跟老板申请" has no 申请; "潘宏谈" is 潘宏; "设计总监" is no 计总监; "叫孟凡" names 孟凡."""
    people = _people("她说得先跟老板申请。采购经理潘宏谈了条款。设计总监张岚说了不算。客户体验部总监，叫孟凡，管预算。")
    names = {name for name, _, _ in people}
    assert "申请" not in names and "潘宏谈" not in names and "计总监" not in names
    assert {"潘宏", "张岚", "孟凡"} <= names


@pytest.mark.parametrize(("sentence", "kind"), [
    ("Her main concern is cost, they can't stretch to the annual fee.", "price"),
    ("The budget got moved to marketing last month.", "price"),
    ("They're evaluating Observe.AI alongside us.", "competitor"),
    ("They got burned by a vendor that went bust.", "trust"),
    ("He doesn't see what this adds, they already juggle too many screens.", "need"),
    ("She'd have to get the OK from her COO.", "authority"),
    ("It's all hands on deck until the new site opens.", "timing"),
    ("The reps work where there's no signal, so it has to work offline.", "delivery"),
    ("今年预算比较紧，一分钱都批不出来。", "price"),
    ("他说平台自带的工具也能凑合用。", "competitor"),
    ("她最在意的是你们规模太小，怕过两年就不在了。", "trust"),
    ("IT就两个人，今年排不出人手做集成。", "delivery"),
    ("他人挺好，但他说了不算。", "authority"),
    ("时间不对，所有采购都要等审计结束。", "timing"),
    ("就二十几个人，用不着这么复杂的东西。", "need"),
])
def test_indirect_objections(sentence, kind):
    assert kind in {o["type"] for o in find_objections([sentence])}, sentence


@pytest.mark.parametrize("sentence", [
    "Price isn't the issue, she's keen.", "Went quiet after the pricing email.", "价格可以谈，她很支持。",
    "平板怕是用不起来。", "质量主管会负责试用评估。"])
def test_no_price_or_competitor_where_none_was_raised(sentence):
    assert not {"price", "competitor"} & {o["type"] for o in find_objections([sentence])}, sentence


def test_relative_dates_of_a_note():
    cases = {"the week after next": "2025-10-27", "by mid-November": "2025-11-15", "下下周一": "2025-10-27",
             "九月底前": "2026-09-30", "月中前": "2025-10-15", "这周内": "2025-10-17", "过两周": "2025-10-29",
             "next Friday": "2025-10-24", "by Friday": "2025-10-17", "月底前": "2025-10-31"}
    for text, expected in cases.items():
        assert [m.day.isoformat() for m in find_dates(text, WEDNESDAY)] == [expected], text


def test_an_undated_customer_sentence_is_read_for_objections():
    """"说同类产品的报价..." names an offer but is what the customer said, not the rep's plan."""
    notes = extract_notes("孙经理只关心价格，说同类产品的报价都在我们的六折左右。元旦后再谈。", None, WEDNESDAY)
    assert {"price", "competitor"} <= {o["type"] for o in notes.objections}
