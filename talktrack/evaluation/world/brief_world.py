"""The daily brief's truth in a world: reps' answers to "which customer surprised you today?" in the
world's last week, with new topics planted, and the brief's checks computed from the records.

Planted: each team hears one *new* topic (not an objection type, not a known topic) from 3-5 answers
of at least two of its sellers; every other answer speaks of a known objection (price, competitor,
timing, ...), a known topic (praise, expansion, scheduling) or something said once. Phrasings are
written here for this purpose (not the dialogue phrase tables), in the rep's language, some mixed.

Checks' truth, under the embedded default policy, as of the world's last day (end of day): per team
the lead pool (new and invalid counts) and the open deals whose current stage ran past its timer.

Written as ``surprise_answers.jsonl`` (the answers, as reps would post them) and ``brief_truth.json``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from importlib import resources
from pathlib import Path

import yaml

from talktrack.evaluation.world import writer as w
from talktrack.evaluation.world.spec import child_rng

STEP_SURPRISES = 90
WEEK_DAYS = 7
NEW_TOPICS = {
    "data_residency": {
        "en": ["{c} asked whether all their data can stay on servers inside the country, some new regulation",
               "their compliance officer wants proof the data never leaves local data centres",
               "legal at {c} now insists on in-country hosting before anything else",
               "they asked where exactly our servers sit, the new data export rules worry them a lot"],
        "zh": ["{c}问数据能不能全部存在国内的机房，说是新出的监管规定",
               "他们合规部门要求证明数据不出境",
               "{c}法务现在第一个问题就是本地化部署和数据存储位置",
               "客户很担心数据跨境的新规，问我们服务器到底放在哪"]},
    "ai_assistant": {
        "en": ["{c} kept asking if the product has a built-in AI assistant like ChatGPT",
               "their VP wants generative AI to write the summaries for them, asked if we have that",
               "everyone at {c} is talking about large language models, they asked for our AI roadmap",
               "they asked whether a chatbot could answer their staff's questions inside our tool"],
        "zh": ["{c}一直问我们产品有没有内置类似ChatGPT的AI助手",
               "他们副总想用大模型自动写总结，问我们有没有这个功能",
               "客户说现在都在搞AI大模型，问我们的AI路线图",
               "他们问能不能在系统里加一个智能问答机器人给员工用"]},
    "carbon_reporting": {
        "en": ["{c} now needs every supplier to report carbon emissions, asked if we can provide that",
               "their sustainability team asked for our ESG data before signing anything",
               "surprised that {c} scores vendors on their carbon footprint now",
               "they want a yearly emissions report from us for their green audit"],
        "zh": ["{c}现在要求所有供应商提供碳排放数据",
               "他们的可持续发展团队要我们先提供ESG报告",
               "没想到{c}现在按碳足迹给供应商打分",
               "客户要我们每年出一份排放报告，配合他们的绿色审计"]},
    "merger_consolidation": {
        "en": ["{c} just merged with another group and is cutting the number of vendors in half",
               "after their acquisition they want one supplier for both companies",
               "the new parent company of {c} is reviewing every contract to consolidate vendors",
               "they told me the merger means only two vendors per category will survive"],
        "zh": ["{c}刚和另一家集团合并，供应商要砍掉一半",
               "他们被收购以后，两家公司想统一用一个供应商",
               "{c}新的母公司在审查所有合同，要整合供应商",
               "客户说合并之后每个品类只保留两家供应商"]},
    "offline_mobile": {
        "en": ["{c}'s field staff work in places with no signal, they need the app to work offline",
               "they asked if the mobile app can sync later when the engineers are back in coverage",
               "no internet on their factory floor, so offline mode is a must for {c}",
               "their technicians travel to remote sites and want everything to work without network"],
        "zh": ["{c}的外勤人员经常在没信号的地方，需要App能离线用",
               "他们问手机端能不能先离线记录，回到有网的地方再同步",
               "客户工厂车间没有网络，离线模式是必须的",
               "他们的工程师常去偏远现场，希望没网也能正常使用"]},
    "staff_turnover": {
        "en": ["{c} lost half their ops team this quarter and need something new hires can learn in a day",
               "their people keep quitting, they care most about how fast a newcomer gets productive",
               "turnover at {c} is so high they asked for built-in training for every new employee",
               "they said staff leave every few months so onboarding speed matters more than features"],
        "zh": ["{c}这个季度运营团队走了一半，需要新人一天就能上手的东西",
               "他们员工流失很严重，最关心新人多快能上手",
               "{c}人员流动太大，希望系统里自带新员工培训",
               "客户说员工几个月就换一批，上手速度比功能更重要"]},
}
KNOWN_TOPICS = {
    "price": {"en": ["{c} said the budget was cut again and our price is too high",
                     "finance at {c} pushed back hard on the cost"],
              "zh": ["{c}说预算又被砍了，觉得我们价格太高", "{c}财务对价格很有意见"]},
    "competitor": {"en": ["{c} is also talking to a competitor who offered a cheaper package",
                          "they compared us line by line with another vendor's quote"],
                   "zh": ["{c}同时在跟竞争对手谈，对方报价更便宜", "他们拿另一家厂商的方案逐条跟我们比"]},
    "timing": {"en": ["{c} wants to wait until next quarter before deciding",
                      "they said now is not the right time, maybe after the new year"],
               "zh": ["{c}想等到下个季度再决定", "他们说现在时机不对，年后再说"]},
    "authority": {"en": ["turns out the CEO of {c} has to sign off, my contact cannot decide",
                         "they need the board's approval first"],
                  "zh": ["原来{c}要老板签字，对接人自己做不了主", "他们要先过董事会审批"]},
    "praise": {"en": ["{c} loved the demo and said it was the best they had seen",
                      "the customer was very happy with our support team"],
               "zh": ["{c}很喜欢我们的演示，说是看过最好的", "客户对我们的服务团队非常满意"]},
}
# Said once: a team draws each at most once (several reps telling the same one-off would be news).
ONE_OFFS = {"en": ["the CFO of {c} turned out to be my old classmate", "{c} brought their whole family to the meeting",
                   "the meeting at {c} was held in a tea house", "{c}'s office has a climbing wall in the lobby",
                   "the buyer at {c} quoted Shakespeare at me for ten minutes", "{c} served us homemade dumplings",
                   "their receptionist recognised me from a marathon last year", "{c} still runs everything on fax machines",
                   "the whole {c} team wore football shirts for a match day", "{c}'s founder is only 24 years old"],
            "zh": ["{c}的财务总监居然是我大学同学", "{c}的会议是在茶馆里开的", "客户带着宠物狗来开会",
                   "{c}的前台认出我是去年马拉松的队友", "{c}老板亲手给我们包了饺子", "{c}办公室里居然有攀岩墙",
                   "{c}现在还在用传真机办公", "{c}的创始人才二十四岁", "客户全员穿着球衣开会，说今天有比赛",
                   "{c}的采购经理背了十分钟唐诗"]}
OPENERS = {"en": ["", "Honestly, ", "Surprise of the day: ", "Hmm, ", "Well, "],
           "zh": ["", "今天最意外的是，", "说实话，", "嗯，"]}


def write_brief_world(spec, world, out_dir: Path) -> int:
    """Write ``surprise_answers.jsonl`` and ``brief_truth.json``; returns the number of answers."""
    answers, planted = surprise_answers(spec, world)
    w.write_jsonl(Path(out_dir) / "surprise_answers.jsonl", answers)
    w.write_json(Path(out_dir) / "brief_truth.json", {
        "as_of": (spec.end - timedelta(days=1)).isoformat(), "planted_new_topics": planted,
        "lead_pool": lead_pool_truth(spec, world), "breakpoints": breakpoint_truth(spec, world)})
    return len(answers)


def surprise_answers(spec, world) -> tuple[list[dict], list[dict]]:
    """The last week's answers per team and the planted (team, topic) pairs with their answers."""
    rng = child_rng(spec.seed, STEP_SURPRISES)
    topics = list(NEW_TOPICS)
    order = [topics[i] for i in rng.permutation(len(topics))]
    days = [spec.end - timedelta(days=d) for d in range(WEEK_DAYS, 0, -1)]
    customers = [c.name for c in world.customers] or ["the customer"]
    answers, planted = [], []
    for t, team in enumerate(world.teams):
        sellers = [r for r in world.reps if r.team_id == team.team_id and r.role == "rep"]
        if len(sellers) < 2:
            continue
        topic = order[t % len(order)]
        tellers = [sellers[i] for i in rng.permutation(len(sellers))][:max(2, min(len(sellers), 4))]
        count = int(rng.integers(3, 6))
        ids = []
        for k in range(count):
            rep = tellers[k % len(tellers)]
            ids.append(_answer(answers, rng, rep, days, customers, NEW_TOPICS[topic], f"new:{topic}"))
        planted.append({"team": team.team_id, "topic": topic, "answer_ids": ids})
        once: dict[str, list[int]] = {}
        for rep in sellers:
            for _ in range(int(rng.integers(2, 5))):
                kind = rng.random()
                if kind < 0.8:
                    known = list(KNOWN_TOPICS)[int(rng.integers(len(KNOWN_TOPICS)))]
                    _answer(answers, rng, rep, days, customers, KNOWN_TOPICS[known], f"known:{known}")
                else:
                    language = rep.language if rep.language in ONE_OFFS else "en"
                    said = once.setdefault(language, [int(i) for i in rng.permutation(len(ONE_OFFS[language]))])
                    if said:
                        _answer(answers, rng, rep, days, customers, {language: [ONE_OFFS[language][said.pop()]]}, "one_off")
    answers.sort(key=lambda a: (a["answered_on"], a["answer_id"]))
    return answers, planted


def _answer(out: list[dict], rng, rep, days, customers, phrasings: dict, topic: str) -> str:
    language = rep.language if rep.language in phrasings else "en"
    text = phrasings[language][int(rng.integers(len(phrasings[language])))]
    opener = OPENERS[language][int(rng.integers(len(OPENERS[language])))]
    text = opener + text.format(c=customers[int(rng.integers(len(customers)))])
    answer_id = f"SA-{len(out) + 1:05d}"
    out.append({"answer_id": answer_id, "rep_id": rep.rep_id, "answered_on": days[int(rng.integers(len(days)))].isoformat(),
                "text": text[:1].upper() + text[1:] if language == "en" else text, "language": language, "topic": topic})
    return answer_id


def _defaults() -> dict:
    return yaml.safe_load(resources.files("talktrack.configs").joinpath("default.yaml").read_text(encoding="utf-8"))


def lead_pool_truth(spec, world) -> dict:
    """Per team: leads in the pool window, of them new (new window) and invalid; default windows."""
    brief = _defaults()["management"]["brief"]
    end = datetime.combine(spec.end, time())
    pool_start, new_start = end - timedelta(days=brief["pool_days"]), end - timedelta(days=brief["new_days"])
    team_of = {r.rep_id: r.team_id for r in world.reps}
    out = {t.team_id: {"pool": 0, "new": 0, "invalid": 0} for t in world.teams}
    for lead in world.management.leads:
        if pool_start <= lead.created_at < end and lead.rep_id in team_of:
            row = out[team_of[lead.rep_id]]
            row["pool"] += 1
            row["new"] += lead.created_at >= new_start
            row["invalid"] += lead.status == "invalid"
    return out


def breakpoint_truth(spec, world) -> dict:
    """Per team: the open deals (at the end of the last day) whose current stage outlasted its timer."""
    thresholds = {s["key"]: float(s["threshold_days"]) for s in _defaults()["stages"]}
    end = datetime.combine(spec.end - timedelta(days=1), time(23, 59, 59))
    team_of = {r.rep_id: r.team_id for r in world.reps}
    out: dict[str, list[str]] = {t.team_id: [] for t in world.teams}
    for deal in world.deals:
        events = sorted((at, stage) for stage, at in deal.stage_events if at <= end)
        open_then = deal.status == "open" or (deal.closed_at is not None and deal.closed_at > end)
        if deal.created_at > end or not events or not open_then:
            continue
        entered, stage = events[-1]
        threshold = thresholds.get(stage)
        if threshold is not None and (end - entered).total_seconds() / 86400.0 > threshold:
            out[team_of[deal.rep_id]].append(deal.deal_id)
    return {team: sorted(deals) for team, deals in out.items()}
