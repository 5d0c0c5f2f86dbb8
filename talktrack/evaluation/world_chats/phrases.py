"""What people type in sales chats and e-mails, per topic and language: short, abbreviated, with emoji, and
in Chinese threads with English words mixed in. Written for chats (not taken from the call generator's
phrase tables), so a detector trained on calls meets new wording here.

Slots: {first} the contact's first name / address, {rep} the rep's first name, {competitor}, {budget},
{deadline}, {decider} (who decides), {product}.
"""

from __future__ import annotations

# Customer lines that raise an objection, by objection type.
OBJECTIONS = {
    "en": {
        "price": ["honestly the number is higher than we planned 😬", "tbh {budget} was our ceiling, this is above it",
                  "finance will push back on this price, can u do better?", "pricey... any flexibility?"],
        "competitor": ["{competitor} quoted us lower fyi", "we're also looking at {competitor}, what's the diff?",
                       "{competitor} says they can do the same thing, why u?"],
        "timing": ["not sure this is the right quarter for us tbh", "can we revisit after {deadline}? swamped rn",
                   "timing is tough, lots going on internally 😅"],
        "authority": ["I can't sign off on this myself", "need {decider} to approve, not my call",
                      "this has to go thru {decider} first"],
        "need": ["not sure we need all these modules", "our current setup kinda works tbh",
                 "does it really fix our problem or is it overkill?"],
        "trust": ["how do we know it won't break in prod?", "any customers like us actually using it?",
                  "bit worried about data security ngl"],
        "delivery": ["can u actually go live before {deadline}?", "worried about the rollout taking forever",
                     "who handles the implementation on ur side?"],
    },
    "zh": {
        "price": ["价格有点超预算了😓", "这个报价比我们预期高不少，能再优惠点吗", "预算只有{budget}，你们这个price有点高",
                  "财务那边肯定说贵，有没有discount空间"],
        "competitor": ["{competitor}那边报价更低哦", "我们也在看{competitor}，你们区别在哪",
                       "{competitor}说他们也能做，为啥选你们"],
        "timing": ["最近太忙了，{deadline}之后再说吧", "这个季度可能不太合适", "时间上有点赶，内部还没排上"],
        "authority": ["这个我一个人定不了", "得{decider}拍板才行", "要先走{decider}审批"],
        "need": ["感觉我们用不到这么多功能", "现在的系统凑合也能用", "这个真能解决我们的问题吗？"],
        "trust": ["上线后出问题怎么办", "有没有同行业的case可以参考", "数据安全这块有点担心"],
        "delivery": ["{deadline}之前能上线吗", "实施周期会不会很长", "你们那边谁负责交付？"],
    },
}

# Rep answers to an objection (not labelled: the truth records the objection they answer).
ANSWERS = {
    "en": ["totally get it 👍 let me check what we can do on our side", "fair point, can I send a short comparison?",
           "understood. what if we phase it so year 1 is lighter?", "makes sense, let's hop on a 15 min call tmrw?",
           "good q, I'll share a case from a similar team asap"],
    "zh": ["理解理解👌 我这边申请一下看看", "明白，我整理个对比表发您", "可以分期做，第一年压力小一些",
           "好的，明天约个15分钟电话聊下？", "我发个同行业的case给您参考"],
}

# Rep questions that cover a key question, by key.
QUESTIONS = {
    "en": {
        "need_trigger": ["what made u start looking at this now?", "curious what kicked this off on ur side?"],
        "decision_maker": ["who else needs to sign off besides u?", "who has the final say on this?"],
        "budget": ["do you have a budget range in mind?", "roughly what budget are we working with?"],
        "timeline": ["when are u hoping to decide by?", "what's the timeline for the purchase?"],
        "pain_points": ["what's the biggest headache with the current process?", "where does it hurt most today?"],
        "current_solution": ["what are u using for this today?", "how do u handle it right now, in-house tool?"],
        "decision_process": ["what does the approval process look like on ur end?",
                             "after this, what steps does it go through internally?"],
        "success_criteria": ["how would u measure success after 3 months?", "what would make this a win for u?"],
        "delivery_timeline": ["when do u need it live?", "what go-live date are u aiming for?"],
        "payment_terms": ["are annual payments ok or do u need quarterly?", "what payment terms does finance prefer?"],
        "onboarding_owner": ["who will own the rollout on ur side?", "who should we work with for onboarding?"],
    },
    "zh": {
        "need_trigger": ["这次是什么契机想看这块？", "最近是遇到什么问题了吗，怎么想到做这个"],
        "decision_maker": ["最后是谁拍板呀？", "除了您还有谁参与决策？"],
        "budget": ["预算大概在什么范围？", "这个项目budget大概多少"],
        "timeline": ["大概什么时候要定下来？", "采购时间有计划吗"],
        "pain_points": ["现在最头疼的是哪块？", "目前流程里最大的问题是什么"],
        "current_solution": ["现在用的是什么系统？", "目前是自己做还是用别家的？"],
        "decision_process": ["内部审批流程是怎样的？", "接下来内部要走哪些流程"],
        "success_criteria": ["上线三个月后怎么算成功？", "您这边看重哪些指标"],
        "delivery_timeline": ["希望什么时候上线？", "go-live时间有要求吗"],
        "payment_terms": ["付款方式年付可以吗？", "财务那边付款条件有什么要求"],
        "onboarding_owner": ["上线这块您那边谁负责对接？", "实施的时候找谁对接比较好"],
    },
}

# Customer replies to a key question (they answer it; the truth labels the question).
REPLIES = {
    "en": ["hmm let me check and get back to u", "probably {decider}, I'll loop them in", "around {budget} I think",
           "ideally before {deadline}", "mostly manual work in spreadsheets tbh", "ok, will confirm by EOD"],
    "zh": ["我确认下再回您", "应该是{decider}，我拉他进群", "预算大概{budget}左右", "最好{deadline}之前",
           "现在主要靠Excel手工弄", "好的，今天下班前回复您"],
}

OPENERS = {
    "en": {"rep": ["Hi {first} 👋", "hey {first}, quick one", "morning {first}!", "Hi {first}, {rep} here"],
           "customer": ["hi {rep}", "hey", "{rep}, got a sec?"]},
    "zh": {"rep": ["{first}您好👋", "{first}早上好", "在吗{first}", "{first}，打扰一下"],
           "customer": ["{rep}你好", "在吗", "hi {rep}"]},
}
CLOSERS = {
    "en": {"rep": ["thx! talk soon 🙏", "great, will send it over", "ok noted 👍"],
           "customer": ["thx", "ok 👍", "sounds good", "cool, ttyl"]},
    "zh": {"rep": ["好的，感谢🙏", "收到，我这边跟进", "好嘞👌"], "customer": ["好的", "OK👌", "收到", "谢谢~"]},
}
# Lines that cover no topic: logistics and small talk.
FILLERS = {
    "en": ["sending the deck now", "did u get my email?", "pls check the calendar invite 📅", "will do",
           "sorry, was in a meeting", "👍", "np"],
    "zh": ["资料发您邮箱了", "收到请回复一下哈", "会议邀请发了📅", "稍等，在开会", "👍", "好的好的"],
}
# Messages people take back (revoked right after).
MISTAKES = {"en": ["oops wrong chat", "ignore that pls", "sry typo"], "zh": ["发错了", "不好意思发错群了", "打错字了"]}

EMAIL_SUBJECTS = {
    "en": ["Re: {product} proposal", "Follow-up: {product}", "Next steps on {product}", "{product} - questions"],
    "zh": ["关于{product}方案", "回复：{product}报价", "{product}后续安排", "{product}项目沟通"],
}
EMAIL_GREETINGS = {"en": {"rep": "Hi {first},", "customer": "Hi {rep},"},
                   "zh": {"rep": "{first}您好，", "customer": "{rep}你好，"}}
EMAIL_SIGNOFFS = {"en": "Best regards,\n{name}\n{phone}", "zh": "祝好\n{name}\n电话：{phone}"}
