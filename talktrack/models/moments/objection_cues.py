"""The words a field note's objections are read by, per type, in English and Chinese.

Kept apart from :mod:`talktrack.models.moments.notes` so that a team can add a phrasing without
touching the reading logic. A cue is what a rep writes when the customer raised that objection,
often indirectly ("her main concern is cost", "the budget got moved to marketing", "怕我们过两年就
不在了"); general sales vocabulary, not phrases of any graded note. ``NOT_OBJECTION`` removes the
phrasings that deny one ("price isn't the issue").
"""

from __future__ import annotations

import re

OBJECTION_CUES = {
    "price": r"\bpric(?:e|ey|ing)\b(?! (?:email|sheet|page|list|doc))|can['’]t justify|too (?:much(?! (?:risk|of a risk|work|hassle|change))|expensive)|expensive|\bsteep\b|afford|no budget|budget['’]s gone|"
             r"froze budgets|hiring freeze|justify the spend|can['’]t pay|\bcheaper\b|\d+% (?:above|over|lower|more)|"
             r"\d+% off|out of (?:their|our) range|not spending|match it|sticking point|hard to justify|"
             r"sticker shock|the (?:number|figure) (?:scared|shocked|spooked)|that kind of (?:spend|money)|"
             r"for a fraction|per-seat (?:model|price|fee)|too costly|over budget|"
             r"concern is (?:the )?(?:cost|money|budget)|stretch to|budget (?:got|was|has been) (?:moved|cut|reallocated|pulled)|"
             r"money is the (?:problem|issue)|spend(?:ing)? freeze|zero spend|half (?:our|the) price|balk at|"
             r"notoriously tight|earmarked|budget cycle|"
             r"贵|报价比|价格是卡点|年费很难|费用(?:太|偏)高|预算\S{0,4}(?:用完|没了|冻结|紧|砍)|预算有限|掏不起|付不起|用不起(?!来)|承受|"
             r"价格(?!不是问题|没问题)|(?<![打五])[一二三四五六七八九]折|预算\S{0,4}锁|降\d+%|至少要降|便宜|跟价|批不(?:下来|出来)|不花钱|一分钱|回本|订阅费|降本|压缩成本",
    "competitor": r"\bvs\.?\b|comparison|(?:than|above|over) [A-Z]\w+['’]s|already (?:uses|piloting)|piloting [A-Z]|"
                  r"signed \S+ \S+ deal with|current vendor|looked at [A-Z]|up against|prefers [A-Z]|"
                  r"quote from [A-Z]|also invited|had a [A-Z]\w+ demo|different from [A-Z]|pay [A-Z]\w+ today|"
                  r"compared us with|they['’]re ahead|better than us|renewed with [A-Z]|comparable from [A-Z]|"
                  r"(?:we['’]re )?one of (?:two|three|four|five|several)\b|other vendors?|"
                  r"already (?:have|has|pay for) [A-Z]|alongside us|incumbent|bidders?\b|compare (?:to|with|against) [A-Z]|"
                  r"contract with [A-Z]|同类产品|"
                  r"竞标|比\S{1,4}(?:高|贵)|逐项对比|和\S{1,10}对比|对方\S{0,6}更好|签了\S{0,6}合同|现在用的|用过|偏向|"
                  r"(?:在|正在)试用|上了一套|试用(?:了|过)|看过|邀请了|有啥区别|的报价便宜|现在给\S{1,5}的|别家|另一家|另外(?:两|几)家|"
                  r"[三几]家里|自带|免费的?工具|凑合用",
    "timing": r"(?:won['’]t|can['’]t|not|no|nothing|nobody|no one)\b[^.]{0,40}\b(?:until|before|till|til)\b|\bearliest\b|"
              r"all hands on deck|twice a year|once a year|next time in|next[- ]year|budget cycle|(?:till|until|til) then|runs (?:to|until|till|through) [A-Z]|worst (?:possible )?time|new (?:fiscal|financial|school) year|"
              r"rather wait|wait until|froze \w+ (?:til|until)|too busy|budget year starts|not interested right now|"
              r"nobody has time|maybe Q[1-4]|next quarter|stretched thin|no bandwidth|"
              r"until (?:spring|summer|autumn|fall|winter|next year|the new year)|"
              r"不是时候|现在没兴趣|没人有精力|可能[一二三四]季度|[一二三四]季度|过段时间|之前没法签|前签不了|之前[^，。,\s]{0,8}不|下半年|明年|"
              r"过去再说|冻结到|太忙|(?:元旦|春节|(?<!半)年)后再|冻结变更|年后才|排期|时间不对|等\S{0,8}结束|最早也?得|一律暂停",
    "authority": r"not (?:his|her|my) call|can['’]t (?:approve|sign)|has to (?:run it by|take it to)|"
                 r"need approval from|(?:isn['’]t|not) the one who decides|(?:['’]d|would|will) need sign-off from|"
                 r"(?:have|has|need|needs) to get (?:the )?(?:OK|okay|go-ahead|green light|sign-off|approval) from|"
                 r"回去问问|哪个部门出钱|做不了主|自己签不了|自己批不了|定不了|批准才行|要先跟\S{0,6}汇报|说了不算|先\S{0,4}跟\S{0,4}申请",
    "need": r"(?:doesn['’]t|don['’]t) see the (?:need|value|point)|see the point|not (?:a )?priority|nice-to-have|"
            r"too small(?! (?:a|of a) vendor)|happy enough|happy with (?:spreadsheets|how)|not much pain|already covers|irrelevant|"
            r"waste of money|need to see it work|can['’]t handle|skeptical about moving|(?:isn['’]t|not) (?:really )?relevant|"
            r"no use for|(?:don['’]t|doesn['’]t) need|would(?:n['’]t| not) (?:actually |really )?use it|"
            r"problem they (?:don['’]t|do not) (?:really )?have|(?:don['’]t|doesn['’]t) have (?:a|any|much) (?:real )?"
            r"(?:pain|problem)|no real pain|works fine (?:as is|today)|(?:doesn['’]t|don['’]t) see what (?:this|it|we['’]?d?) "
            r"(?:adds?|would add)|too many (?:screens|tools|systems)|won['’]t bother|ignored the last|"
            r"see enough (?:in it|value)|what['’]s there to|(?:doesn['’]t|don['’]t) see why|in-house|"
            r"built (?:something|our own|their own)|home-?grown|(?:not|n['’]t) (?:\w+ )?worth it|fine with (?:their|the|our) |"
            r"没必要|不需要|没什么痛点|可有可无|不是优先级|用不上|挺好的|够用|没关系|看不到价值|浪费钱|识别不了|"
            r"得先看到|用得好好的|重复|觉得有必要|没什么用|没啥用|用处不大|用不着",
    "trust": r"secur(?:e|ity)(?! questionnaire)|\bSSO\b|where the data|data (?:residency|retention)|privacy|"
             r"confidential|breach|\breferences?\b|never heard of|burned|as promised|proof of ROI|\bISO\b|SOC ?2|"
             r"compliance|consent|in-country|stay in the EU|skeptical that|never adopted|cloud recording|"
             r"recordings are stored|talk to a customer|outages?|uptime|downtime|stabl[ey]|HIPAA|GDPR|"
             r"\bDPA\b|not be around|go out of business|too small (?:a|of a) vendor|leaving the building|"
             r"nervous about|who can (?:listen|access)|went bust|too much risk|risky|seen (?:it )?work|regulators?\b|"
             r"explainab|(?:isn['’]t|not) comfortable|pen(?:etration)? test|stung|bitten|auto-?renew|big brother|surveillance|used to train|latency|"
             r"安全(?!问卷)|数据泄露|隐私|保密|案例|没听说过|坑过|承诺的效果|ROI证明|等保|合规|授权|境内|不太相信|"
             r"根本不用|私有化|上云|云产品|客户聊聊|宕机|稳定|不放心|出境|机房|只能存在|外部\S{0,6}不批|本地部署|扛住|扛不住|并发|压测|没推起来|推不起来|规模太小|不在了|倒闭|融资",
    "delivery": r"rollout|roll-out|implementation|onboarding[^.]{0,25}too long|go-live|be live|deliver in time|"
                r"during migration|disrupt|setup effort|can['’]t support|overloaded|go live|"
                r"patchy (?:wifi|signal|coverage)|wi-?fi|(?:even )?work out there|cutover|offline|no signal|"
                r"will (?:even )?(?:run|work) on|(?:won['’]t|doesn['’]t|can['’]t|not) integrate|"
                r"(?<!免费)实施(?!费)|上线(?!\S{0,2}最早)|(?<!私有化)部署|切换期间|来不及|交付|对接好|影响客服|排不出人|人手不够|集成|打不通|网络太差|"
                r"信号|用不起来",
}
NOT_OBJECTION = re.compile(r"price (?:isn['’]t|is not) the issue|(?:price|pricing) is fine|价格不是问题|价格没问题|价格(?:可以|好)谈|价格好说|"
                            r"对价格没意见", re.I)
