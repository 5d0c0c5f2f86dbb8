"""Mandarin lexicon of the generated world (simplified characters): the same names as
``phrases_en``, written as people in a Chinese B2B sale actually talk, not translated
sentence by sentence.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np

LANGUAGE = "zh"
SPEECH_RATE = 4.5  # characters per second
JOINER = ""

SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("赵", "zhao"),
    ("黄", "huang"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"),
    ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"), ("高", "gao"), ("罗", "luo"),
)
GIVEN_NAMES = (
    ("磊", "lei"), ("静", "jing"), ("伟", "wei"), ("敏", "min"), ("婷", "ting"), ("浩然", "haoran"),
    ("欣怡", "xinyi"), ("子涵", "zihan"), ("俊杰", "junjie"), ("雪", "xue"), ("晨", "chen"), ("思远", "siyuan"),
    ("雨桐", "yutong"), ("志强", "zhiqiang"), ("丽娟", "lijuan"), ("建国", "jianguo"), ("晓东", "xiaodong"),
    ("佳琪", "jiaqi"), ("明", "ming"), ("芳", "fang"),
)
HONORIFICS = ("总", "经理", "总", "工")
COMPANY_STEMS = (
    "华锐", "恒信", "远航", "瑞丰", "鼎盛", "嘉禾", "海川", "金桥", "中和", "云帆", "启明", "天诚", "德润",
    "博远", "长青", "安泰", "盛泽", "华泽", "明德", "正源", "青禾", "新易", "宏图", "汇通",
)
COMPANY_SUFFIXES = {
    "manufacturing": ("精密制造", "机械", "电子", "实业"),
    "logistics": ("物流", "供应链", "货运", "速运"),
    "retail": ("商贸", "连锁", "百货", "零售"),
    "healthcare": ("医疗", "健康", "医药", "门诊连锁"),
    "financial_services": ("金融服务", "保险代理", "资本", "融资租赁"),
    "software": ("科技", "软件", "信息技术", "数据"),
    "education": ("教育", "培训", "教育科技", "职业学堂"),
    "construction": ("建设", "建工", "工程", "装饰"),
}
CITY_PREFIXES = ("上海", "杭州", "深圳", "成都", "武汉", "苏州", "南京", "广州")
REGIONS = ("华东", "华北", "华南", "西南", "华中")
TEAM_NAMES = ("星河", "长风", "破晓", "远山", "青云", "启航", "凌云", "北辰")
TEAM_FORMAT = "{name}组"
EMAIL_DOMAIN = "northwind-demo.example"
VENDOR = "北风科技"
PRODUCTS = ("订单中心", "智能分析平台", "现场服务套件", "智能库存")
COMPETITORS = ("云拓", "数帆", "橙果", "易联达", "蓝鲸软件", "启辰")
CITIES = ("上海", "杭州", "深圳", "成都", "武汉", "苏州", "南京", "广州")
CONTACT_TITLES = ("运营总监", "财务经理", "IT经理", "销售副总", "采购负责人", "客服主管", "供应链经理", "总经理")
DECISION_MAKER_TITLES = ("老板", "财务总监", "总经理", "董事长", "集团领导")
DEADLINES = ("二季度末", "三季度末", "暑假", "9月份", "年底", "3月底", "旺季", "下次董事会")
CASE_CUSTOMERS = ("海润食品", "联创零部件", "康和门诊", "北辰货运", "禾丰零售")

PAIN_ENTITIES = {
    "reconciliation": {"team": ("仓库", "财务", "运营", "客服")},
    "onboarding": {"role": ("销售", "售后工程师", "店长", "客服专员")},
}

PAINS = {
    "reconciliation": (
        "我们{team}团队每周要花差不多{hours}个小时手工对账。",
        "{team}那边每周光核对订单和发票就得{hours}个小时。",
        "每个星期{team}的同事都在手工对账，{hours}个小时就这么没了。",
    ),
    "order_errors": (
        "我们大概有{pct}%的订单会出错。",
        "我们统计过，差不多{pct}%的订单有问题。",
        "发出去的货里大概{pct}%有差错，客户意见很大。",
    ),
    "slow_response": (
        "客户平均要等{hours}个小时才能收到回复，上个月投诉有{complaints}起。",
        "我们回复客户要{hours}个小时左右，光上个月就接到{complaints}个投诉。",
        "上个月一共{complaints}起投诉，主要就是回复太慢，要等{hours}个小时。",
    ),
    "lost_accounts": (
        "上个季度我们丢了{n}个大客户，主要是服务跟不上。",
        "上季度有{n}个重点客户流失了。",
        "光上个季度就走了{n}个大客户。",
    ),
    "onboarding": (
        "新来的{role}要{days}天才能独立上手。",
        "一个新{role}差不多得带{days}天才能自己干活。",
        "现在{role}入职培训要{days}天，太慢了。",
    ),
    "month_end": (
        "我们每个月月结要{days}个工作日。",
        "月底结账要拖{days}个工作日。",
        "财务每次月结都要花{days}个工作日。",
    ),
    "spreadsheets": (
        "我们有{n}个分公司，每家都用自己的表格。",
        "{n}个网点各管各的Excel，数据根本打不通。",
        "数据散在{n}个分支机构的表格里，谁也看不到全貌。",
    ),
    "downtime": (
        "上个季度系统宕机了{hours}个小时。",
        "老系统上季度一共停了{hours}个小时，影响挺大的。",
        "光上个季度就因为系统故障停了{hours}个小时。",
    ),
    "visibility": (
        "我们有{n}个销售，管理层根本看不到商机进展。",
        "销售团队{n}个人，每个人记单子的方式都不一样，预测全靠猜。",
        "{n}个销售的客户跟进情况，我们基本看不到。",
    ),
    "stockouts": (
        "今年主打产品已经断货{n}次了。",
        "今年断了{n}次货，每次都丢单。",
        "畅销款今年缺货{n}次。",
    ),
    "audit": (
        "上次审计查出来{n}个问题，主要是数据记录不规范。",
        "审计那边上次提了{n}条意见。",
        "上一次审计发现了{n}个问题，必须整改。",
    ),
    "expansion": (
        "我们今年要新开{n}个门店，现在这套系统撑不住。",
        "今年计划新开{n}个网点，得有能跟着扩的系统。",
        "今年要开{n}个新点，每开一个都很折腾。",
    ),
}
PAIN_NOTES = {
    "reconciliation": "{team}团队每周手工对账{hours}小时",
    "order_errors": "约{pct}%的订单出错",
    "slow_response": "客户回复要等{hours}小时，上月投诉{complaints}起",
    "lost_accounts": "上季度流失{n}个大客户",
    "onboarding": "新{role}上手需要{days}天",
    "month_end": "月结需要{days}个工作日",
    "spreadsheets": "{n}个分支各用各的表格",
    "downtime": "上季度宕机{hours}小时",
    "visibility": "{n}个销售的商机不透明",
    "stockouts": "今年断货{n}次",
    "audit": "上次审计发现{n}个问题",
    "expansion": "今年计划新开{n}个门店",
}

CONCERNS = {
    "price": ("价格", "预算", "总成本", "费用"),
    "competitor": ("和{competitor}的对比", "{competitor}那边的方案", "别家的报价"),
    "timing": ("时间点", "排期", "启动时间"),
    "authority": ("审批", "内部决策", "决策流程"),
    "need": ("匹配度", "必要性", "业务价值"),
    "trust": ("风险", "落地效果", "数据安全"),
    "delivery": ("上线周期", "交付", "实施"),
}
NEXT_ACTIONS = {
    "discovery_meeting": ("再约一次深入的需求沟通", "跟您团队开个工作会"),
    "demo": ("给团队做一次现场演示", "用你们的数据做个演示"),
    "proposal_review": ("一起过一下方案", "开个方案评审会"),
    "decision_meeting": ("跟{decision_maker}一起开个会", "约{decision_maker}聊一次"),
    "contract_review": ("过一下合同条款", "把最后的条款敲定"),
}

PHRASES: dict[str, tuple[str, ...]] = {
    "greet.customer_first": (
        "喂，您好，我是{contact_first}。",
        "喂？哪位？",
        "您好，{customer}，{contact_first}。",
        "喂，{rep_first}是吧？",
        "你好你好，我{contact_first}。",
        "喂，您好，请讲。",
    ),
    "greet.rep": (
        "{contact_first}您好，我是{vendor}的{rep_first}，谢谢您抽时间。",
        "喂，{contact_first}好，我是{vendor}的{rep_first}，现在方便吗？",
        "{contact_first}早上好！我是{vendor}{rep_first}。",
        "{contact_first}您好，我是{rep_first}，感谢您今天抽空。",
        "{contact_first}，又打扰您了，我是{vendor}的{rep_first}。",
        "您好{contact_first}，{vendor}{rep_first}，今天耽误您一点时间。",
    ),
    "greet.customer": (
        "你好你好，没事，你说。",
        "方便的，正好有空。",
        "嗯，可以，我这边大概有半个小时。",
        "好的好的，开始吧。",
        "你好，等你电话呢。",
        "{rep_first}你好，你说吧。",
    ),
    "rapport.rep": (
        "上次您说要去{city}出差，还顺利吧？",
        "我看{customer}最近在招人，挂了{open_positions}个岗位，业务发展挺快啊。",
        "这周忙不忙？",
        "季度末那阵子应该挺忙的吧？",
        "听说你们刚搬了新办公室，环境怎么样？",
        "上次你们团队出去团建，玩得开心吗？",
        "最近天气变化大，您那边还好吧？",
    ),
    "rapport.customer": (
        "还行，老样子，忙。",
        "挺顺利的，就是有点赶。",
        "别提了，这周事特别多。",
        "不错不错，新来了几个同事。",
        "还可以，没什么好抱怨的。",
        "忙是忙，总算理顺了。",
    ),
    "agenda.qualification": (
        "今天主要想了解一下{customer}现在的情况，看看我们能不能帮上忙。",
        "今天就简单聊聊，先了解你们的现状，再看有没有必要往下走。",
        "今天我不讲产品，主要是听您说说现在的情况。",
        "今天的目的就是看看{product}对你们到底有没有用。",
        "能不能先花几分钟聊聊你们现在是怎么做的，然后再定下一步？",
        "今天我主要是来听的，问几个问题，您看可以吧？",
    ),
    "agenda.needs_diagnosis": (
        "今天想跟您把上次提到的几个问题再往深里聊一聊。",
        "今天我们把流程细节过一遍，把问题的规模量化一下。",
        "今天的计划是把时间到底花在哪儿理清楚。",
        "想请您把整个流程从头到尾给我讲一遍。",
        "在出方案之前，我想先把痛点真正搞明白。",
        "今天就聊细节，数字、流程、涉及哪些人。",
    ),
    "agenda.solution_presentation": (
        "今天想给您讲讲{product}在{customer}具体怎么落地。",
        "根据上次您说的情况，我们做了一版方案，今天跟您过一下。",
        "我把围绕你们的数据设计的方案给您演示一下。",
        "今天主要是讲方案，您有什么想法直接说。",
        "我们专门给你们做了定制的方案，今天过一遍。",
        "今天想把方案讲清楚，看看跟你们的优先级对不对得上。",
    ),
    "agenda.negotiation": (
        "今天想把商务条款过一下，争取把后面的路定下来。",
        "今天我们把报价和合同细节过一遍吧。",
        "价格和条款上还有几个点没定，今天争取都敲定。",
        "那今天就把数字过一遍，看看大家差在哪儿。",
        "今天主要是最后的条款，确保对您那边都合适。",
        "今天能不能把商务这块搞定？",
    ),
    "q.open": (
        "你们现在这块是怎么处理的？",
        "订单进来之后，整个流程是怎样的，能讲讲吗？",
        "团队一周的工作大概是什么样的？",
        "如果可以改，您最想先改哪一块？",
        "现在这套做法是怎么形成的？",
        "这个对你们的客户有什么影响？",
        "团队之间在这件事上是怎么配合的？",
    ),
    "q.closed": (
        "这个是手工做的吗？",
        "现在有用什么工具吗？",
        "每个分公司都一样吗？",
        "每个月都会这样吗？",
        "IT那边有参与吗？",
        "这个流程是您负责吗？",
    ),
    "a.open": (
        "就是邮件、表格，再加上一堆电话，混着来。",
        "说实话看谁当班，没有统一的标准。",
        "公司发展太快了，流程一直没跟上。",
        "能用，但全靠几个老员工撑着。",
        "我想想啊，基本上都是手工的。",
        "挺乱的，每个人都有自己的一套。",
        "每天大概有{users}个人要处理这个，全靠手工。",
    ),
    "a.closed": (
        "对，基本上是。",
        "没有，不太是。",
        "对，几乎每次都这样。",
        "还没有。",
        "是的，没错。",
        "看情况吧。",
    ),
    "pain.lead": (
        "最大的问题是这个。",
        "说实话，最头疼的是这样。",
        "跟您说实话吧。",
        "是这么回事。",
        "主要问题其实很简单。",
        "我最担心的就是这个。",
    ),
    "paraphrase.rep": (
        "我理解一下，就是{pain_note}，对吧？",
        "我确认一下啊，{pain_note}，是这样吗？",
        "明白了，{pain_note}，这个影响不小。",
        "我复述一下，{pain_note}，我理解得对吗？",
        "好的，{pain_note}，这个确实得解决。",
        "所以核心问题就是{pain_note}，对不对？",
    ),
    "paraphrase.customer": (
        "对对对，就是这样。",
        "没错。",
        "对，就是这个。",
        "是的，你理解得对。",
        "对，而且越来越严重了。",
        "差不多就是这样。",
    ),
    "value.rep": (
        "用了{product}以后，对账是自动的，团队就不用再手工核对了。",
        "一般来说，第一个季度手工工作量就能减一半。",
        "{product}的核心就是所有分支、所有订单在一个地方看得到。",
        "出问题之前系统就会预警，不用等客户打电话来投诉。",
        "我们是按你们的流程来配置的，大家不用改变工作习惯。",
        "像你们这个规模，一般一年以内就能回本。",
    ),
    "value.customer": (
        "嗯，听起来挺有用的。",
        "有意思，那部署要多久？",
        "如果真能做到，那确实有帮助。",
        "对，我关心的就是这个。",
        "理论上听着不错。",
        "好，这个思路我认可。",
    ),
    "obj.price": (
        "说实话，{amount}比我们预想的高，我们预算就{budget}。",
        "价格是个问题，我们这块只批了{budget}。",
        "这个价格对我们来说有点贵了。",
        "今年这个费用我不太好跟上面交代。",
        "我们预算是{budget}，你们这个高出不少。",
        "{amount}的话，财务那边肯定会卡。",
    ),
    "obj.competitor": (
        "我们也在跟{competitor}谈，他们便宜不少。",
        "{competitor}上周也来给我们演示过类似的东西。",
        "我们为什么要选你们，不选{competitor}？",
        "说实话，{competitor}已经说可以给我们免费试用了。",
        "我们行业里很多家都在用{competitor}。",
        "我们有一部分已经在用{competitor}了，为什么要换？",
    ),
    "obj.timing": (
        "时间上不太合适，我们正在搞组织调整。",
        "{deadline}之前应该启动不了。",
        "说实话，这个季度不是重点。",
        "要不明年再说吧？",
        "最近手上的事情太多了。",
        "再等等吧，现在团队实在忙不过来。",
    ),
    "obj.authority": (
        "这个我一个人定不了，得{decision_maker}点头。",
        "这个要{decision_maker}审批的。",
        "采购那边肯定要走他们自己的流程。",
        "我个人挺认可的，但拍板的不是我。",
        "这件事有{committee}个人一起评估。",
        "我们领导肯定要先看商业论证。",
    ),
    "obj.need": (
        "我不太确定我们现在真的需要这个。",
        "说实话，现在这套凑合着也能用。",
        "我看不出这个跟我们的流程怎么结合。",
        "这个用Excel应该也能解决吧？",
        "听着不错，但对我们是不是刚需？",
        "我还是没想明白值不值得折腾。",
    ),
    "obj.trust": (
        "我们之前被类似的供应商坑过。",
        "我怎么知道这个在我们这儿真的能用起来？",
        "你们公司规模不大，两年后还在不在啊？",
        "我们的数据比较敏感，安全方面我有顾虑。",
        "得先看到在我们这个规模能跑起来的证据。",
        "上一个类似的项目失败了，大家心里都没底。",
    ),
    "obj.delivery": (
        "实施要多久？我们{deadline}之前必须上线。",
        "我比较担心实施，业务不能停。",
        "{deadline}之前你们真的交付得了吗？",
        "我们IT没人力配合长时间的实施。",
        "上次实施比承诺的拖了一倍时间。",
        "数据迁移谁来做？我们这边没人手。",
    ),
    "obj.lead_new": (
        "还有一个问题。",
        "好吧，不过还有别的。",
        "行，但是另外啊，",
        "嗯，不过这不是我唯一担心的。",
        "可以，不过还有一点。",
        "我再提一个问题。",
    ),
    "move.acknowledge": (
        "理解理解，{concern}确实很关键。",
        "您说得有道理，谢谢您这么直接。",
        "明白，很多客户一开始也有同样的顾虑。",
        "您担心{concern}，这个完全可以理解。",
        "谢谢您直接说出来。",
        "对，这确实是个问题。",
    ),
    "move.clarify": (
        "我想问一下，关于{concern}，您具体担心的是哪一块？",
        "您说的{concern}，是整体的，还是某个具体的点？",
        "我确认一下，是{concern}本身的问题，还是背后有别的原因？",
        "要怎么样{concern}才不算问题呢？",
        "我想了解一下，主要是什么原因？",
        "这是您自己的看法，还是其他同事也这么说？",
    ),
    "move.confirm_timeline": (
        "你们什么时候需要用上，还是{deadline}吗？",
        "我先确认一下时间，你们是打算{deadline}上线吗？",
        "你们的目标是什么时候跑起来？",
        "{deadline}这个时间点还是不变吧？",
        "你们那边实际什么时候采购？",
        "在谈价格之前，我想先确认一下你们计划什么时候采购。",
    ),
    "move.reframe_value": (
        "如果能解决{pain_note}这个问题，这个投入就完全不一样了。",
        "您拿它跟{pain_note}比一比，这才是现在真正的成本。",
        "其实不光是价格，关键是现在的状况让你们付出了多少。",
        "真正应该比的是{pain_note}带来的损失。",
        "大部分客户第一年就能回本。",
        "解决了{pain_note}，对{customer}来说值多少？",
    ),
    "move.cite_case": (
        "{case_customer}当时也有一样的顾虑，后来这块时间缩短了{case_pct}%。",
        "我们给{case_customer}做过，他们跟你们情况很像。",
        "我们有个客户{case_customer}，几周就上线了，效率提升了{case_pct}%。",
        "我可以介绍您跟{case_customer}聊聊，他们当时问的问题一模一样。",
        "{case_customer}用了之后，手工工作量少了{case_pct}%。",
        "我跟您讲讲{case_customer}的情况吧。",
    ),
    "move.offer_installments": (
        "我们可以分{installments}期付，这样今年的预算就够了。",
        "要不分成{installments}个季度付款？",
        "可以分期，分{installments}期，不加钱。",
        "分{installments}期的话，今年的支出能控制在{budget}以内。",
        "分期是可以的，一年分{installments}次付。",
        "不用一次付清，分{installments}期我们这边没问题。",
    ),
    "move.offer_discount": (
        "如果这个月能签，我可以给您打{discount}个点的折扣。",
        "我看看啊，我可以再降{discount}个点。",
        "签两年的话，可以给{discount}个点的优惠。",
        "如果有帮助的话，我给您再让{discount}个点。",
        "我这边还有一点空间，{discount}个点吧。",
        "我去跟领导申请一下{discount}个点的折扣。",
    ),
    "move.compare_competitor": (
        "跟{competitor}比，我们的价格里已经包含了系统对接。",
        "和{competitor}最大的区别是，我们几周就能上线，不是几个月。",
        "{competitor}产品也不错，但多分支的场景他们处理不了。",
        "跟{competitor}放在一起算，三年总成本我们更低。",
        "我们跟{competitor}不一样的地方是本地服务，当天响应。",
        "我可以给您发一份跟{competitor}的逐项对比。",
    ),
    "move.map_decision_chain": (
        "这个事情还需要谁参与，{decision_maker}吗？",
        "能跟我讲讲你们内部是怎么决策的吗？",
        "除了您，还有谁需要签字？",
        "你们的审批流程一步一步是怎么走的？",
        "要不要我给{decision_maker}准备一份材料？",
        "有没有人可能会反对这个项目？",
    ),
    "move.offer_pilot": (
        "要不先找一个团队试点{pilot_weeks}周？",
        "我们可以先从小范围开始，试点{pilot_weeks}周。",
        "先验证一下：{pilot_weeks}周试点，范围小一点。",
        "做个{pilot_weeks}周的试点，风险就小多了。",
        "先在一个分公司用{pilot_weeks}周，再决定。",
        "我们的试点是{pilot_weeks}周，费用可以抵后面的合同款。",
    ),
    "move.provide_guarantee": (
        "合同里我们写{guarantee_days}天保障，用不起来全额退款。",
        "我们有服务等级承诺，做不到我们赔。",
        "如果上线时间延误，前{guarantee_days}天免费。",
        "上线时间我们可以白纸黑字写进合同。",
        "{guarantee_days}天内可以无条件退出。",
        "合同里有系统可用性99.9%的保障。",
    ),
    "move.confirm_delivery_plan": (
        "整个计划是{weeks}周：部署、数据迁移，然后培训。",
        "我跟您讲一下实施计划，前后一共{weeks}周。",
        "我们会配专门的项目经理，{weeks}周上线。",
        "数据迁移我们来做，你们IT每周只需要几个小时配合。",
        "交付计划是这样的：两周部署，然后分批上线，总共{weeks}周。",
        "签约后{weeks}周上线，这个我们可以承诺。",
    ),
    "move.propose_next_step": (
        "要不我们{date}{next_action}？",
        "能不能约在{date}，{next_action}？",
        "我们先把{next_action}定下来，{date}怎么样？",
        "{date}{next_action}，您看行吗？",
        "我建议下一步{next_action}，就定{date}。",
        "那我们{date}{next_action}吧？",
    ),
    "react.concede": (
        "嗯，这样的话倒是说得通。",
        "好吧，这样可以。",
        "行，这个我能接受。",
        "嗯，好，这个有帮助。",
        "哦，这个我之前不知道，挺好。",
        "这个合理。",
    ),
    "react.push_back": (
        "说实话我心里还是没底。",
        "我还是没完全被说服。",
        "嗯，我再考虑考虑吧。",
        "这个没有真正解决我的问题。",
        "也许吧，但我还是有点担心。",
        "我明白你的意思，但还是不太确定。",
    ),
    "next.rep": (
        "那下一步，我们{date}{next_action}，可以吗？",
        "我今天把纪要发给您，然后{date}{next_action}，行吗？",
        "我们把{next_action}定在{date}吧？",
        "我建议{date}{next_action}，我来发会议邀请。",
        "我这边下一步就是{date}{next_action}。",
        "{date}您方便吗？{next_action}。",
    ),
    "next.customer": (
        "{date}可以。",
        "行，你发个邀请给我。",
        "好，就这么定。",
        "应该没问题，我跟团队确认一下。",
        "好的，那就{date}。",
        "可以，你安排吧。",
    ),
    "bye.rep": (
        "好的，谢谢{contact_first}，我们保持联系。",
        "今天太感谢您了。",
        "好的，那不打扰您了。",
        "谢谢{contact_first}，我回头邮件跟进。",
        "感谢感谢，回头聊。",
        "谢谢您，先这样，再见。",
    ),
    "bye.customer": (
        "好，拜拜。",
        "行，回头聊。",
        "谢谢，你也辛苦了。",
        "好的，再见。",
        "好，谢谢{rep_first}。",
        "嗯，先这样。",
    ),
    "backchannel.customer": ("嗯嗯。", "对。", "好的。", "是的。", "明白。", "嗯。"),
    "backchannel.rep": ("嗯嗯。", "对。", "明白。", "好的。", "了解。", "是。"),
}

KEY_QUESTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "need_trigger": {
        "open": ("是什么让你们现在开始考虑这件事的？", "这次是什么原因促使你们找方案的？",
                 "为什么今年要把这件事提上日程？"),
        "closed": ("是出了什么具体的事情吗？", "最近是有什么变化吗？", "是领导那边提出来的吗？"),
        "answer": ("最近问题集中爆发了。", "是出了点状况。", "其实积累很久了。", "领导终于注意到了。",
                   "说实话，上个月情况很糟。", "原因挺多的。"),
    },
    "decision_maker": {
        "open": ("这件事最后谁来拍板？", "选型的时候还有谁参与？", "{customer}这种决策一般是怎么定的？"),
        "closed": ("最后是您来决定吗？", "需要{decision_maker}批准吗？", "还有其他人要签字吗？"),
        "answer": ("最后是{decision_maker}定。", "{decision_maker}签字，我来提建议。", "要报到{decision_maker}那里。",
                   "我跟{decision_maker}一起定。", "{decision_maker}说了算。", "我这边先过，然后{decision_maker}审批。"),
    },
    "budget": {
        "open": ("这个项目你们预算大概是多少？", "预算这块你们是怎么考虑的？", "这次的预算情况能说一下吗？"),
        "closed": ("预算已经批下来了吗？", "心里有个大概的数吗？", "今年的预算已经分配了吗？"),
        "answer": ("我们大概有{budget}。", "预算差不多{budget}。", "{budget}左右，方案好的话可以再争取一点。",
                   "{budget}，已经挺紧了。", "财务批了{budget}。", "第一年我们想控制在{budget}。"),
    },
    "timeline": {
        "open": ("你们希望什么时候落地？", "时间上是怎么计划的？", "你们大概什么时候要做决定？"),
        "closed": ("这个季度会采购吗？", "有截止时间吗？", "目标是{deadline}吗？"),
        "answer": ("最好{deadline}之前。", "我们想在{deadline}之前定下来。", "最晚{deadline}。", "目标是{deadline}。",
                   "尽量{deadline}之前吧。", "{deadline}之前必须跑起来。"),
    },
    "pain_points": {
        "open": ("你们现在最想解决的问题是什么？", "现在最痛的地方在哪儿？", "现在的流程哪里最不顺？"),
        "closed": ("主要问题是手工太多吗？", "这个已经造成实际影响了吗？", "这个会导致丢客户吗？"),
        "answer": ("最大的问题很明显。", "从哪儿说起呢。", "问题不少，但最主要的是一个。", "我给你个数字吧。",
                   "说出来不好听。", "有一件事特别突出。"),
    },
    "current_solution": {
        "open": ("你们现在用的是什么？", "目前这块是怎么做的？", "之前试过哪些工具？"),
        "closed": ("现在用的是{competitor}吗？", "有专门的系统吗？", "有看过别的厂商吗？"),
        "answer": ("一部分用{competitor}，剩下的靠表格。", "主要是Excel，也看过{competitor}。",
                   "用的{competitor}，但不太满意。", "去年试过{competitor}。", "自己做了个小工具，还有一个分公司在用{competitor}。",
                   "没有正经的系统，{competitor}也给我们报过价。"),
    },
    "decision_process": {
        "open": ("你们采购流程一般是怎么走的？", "要批下来需要哪些步骤？", "{customer}这类采购通常怎么推进？"),
        "closed": ("采购需要走招标吗？", "有评审小组吗？", "合同要法务审吗？"),
        "answer": ("有个{committee}人的评审小组。", "先走采购，然后{decision_maker}，最后法务。",
                   "{committee}个人评估，{decision_maker}最后拍板。", "一般两轮，{decision_maker}签字。",
                   "{committee}个人，大概要一个月。", "法务审完给{decision_maker}。"),
    },
    "success_criteria": {
        "open": ("你们怎么衡量这个项目成不成功？", "一年以后什么样算是做成了？", "您希望看到什么样的结果？"),
        "closed": ("手工工作量减半算成功吗？", "有具体的目标数字吗？", "这个要跟管理层汇报吗？"),
        "answer": ("能砍掉一半我就满意了。", "投诉少了就行，就这么简单。", "董事会要看到明确的数字。",
                   "手工少一点、错误少一点。", "团队周末不用加班就算成功。", "每周都能看清楚情况。"),
    },
    "delivery_timeline": {
        "open": ("你们需要什么时候上线？", "上线窗口是怎么安排的？", "多快需要用起来？"),
        "closed": ("{deadline}上线是硬性要求吗？", "可以分阶段上线吗？", "IT有人力配合实施吗？"),
        "answer": ("{deadline}之前必须上线。", "希望{deadline}之前上线。", "分阶段可以，但{deadline}之前要启动。",
                   "{deadline}是死线。", "{deadline}之前，业务高峰马上要来了。", "最好{deadline}之前。"),
    },
    "payment_terms": {
        "open": ("付款条件你们一般怎么安排？", "财务那边对账期有什么要求？", "什么样的付款节奏对你们合适？"),
        "closed": ("{payment_terms}天账期可以吗？", "你们一般是年付吗？", "按季度付可以吗？"),
        "answer": ("我们标准是{payment_terms}天账期。", "财务一般要{payment_terms}天。", "按季度付会好一点。",
                   "一般是收到发票后{payment_terms}天付款。", "价格合适的话年付也行。", "{payment_terms}天，这是公司规定。"),
    },
    "onboarding_owner": {
        "open": ("上线这块你们谁来负责？", "我们的项目经理跟谁对接？", "内部推广谁来牵头？"),
        "closed": ("是您亲自负责上线吗？", "是IT牵头实施吗？", "项目负责人定了吗？"),
        "answer": ("应该是我。", "我们组的{contact2}。", "IT牵头，我配合。", "大概率是{contact2}。",
                   "下周定人。", "我亲自抓。"),
    },
}

NOTE_STYLES = (
    "{day}与{customer}{contact}沟通。\n痛点：{pains}。\n客户顾虑：{objections}。\n{competitor_line}下一步：{next_step}。",
    "【{customer}｜{stage_name}】{day}\n- 对接人：{contact}\n- 客户反馈：{pains}\n- 异议：{objections}\n"
    "{competitor_line}- 约定：{next_step}",
    "{day}和{customer}的{contact}通了电话。主要问题：{pains}。顾虑：{objections}。{competitor_line}"
    "约好{next_step}。",
)
COMPETITOR_LINE = ("竞品：{competitor}。\n", "- 同时在看{competitor}\n", "他们也在接触{competitor}。")
NO_OBJECTIONS = "本次无明显异议"
OBJECTION_NOTES = {
    "price": "价格（预算{budget}）", "competitor": "和{competitor}的对比", "timing": "启动时间",
    "authority": "需要{decision_maker}审批", "need": "与现有流程的匹配度", "trust": "风险和案例",
    "delivery": "{deadline}前能否上线",
}
NEXT_STEP_NOTE = "{day}{next_action}"
LIST_JOINER = "；"
FAKE_TEMPLATES = (
    "与{customer}沟通顺利，了解了客户需求，客户有兴趣，下一步发送方案。",
    "拜访{customer}，客户认可我们的产品价值，后续跟进报价。",
    "和{customer}进行了深入交流，客户意向强烈，下一步出方案。",
    "沟通纪要：{customer}有合作意向，已沟通痛点和时间计划，下周跟进。",
    "{customer}会议效果很好，客户对产品满意，推进到方案阶段。",
    "与{customer}讨论需求，客户兴趣浓厚，决策人已参与，发送资料和报价。",
)
PROPOSAL_STYLE = (
    "{customer}方案：{product}，{users}个用户。\n解决问题：{pains}。\n报价：{amount}，账期{payment_terms}天，目标上线：{deadline}。",
    "【{customer}方案】\n范围：{product}，{users}个账号\n针对问题：{pains}\n商务：{amount}，{payment_terms}天账期",
)
PROPOSAL_TEMPLATES = (
    "已向{customer}发送方案，标准套餐，标准报价。",
    "按沟通内容给{customer}发了标准方案，价格按目录价。",
    "已发送标准产品介绍和报价给{customer}。",
)
CALENDAR_STYLE = (
    "会议邀请：{customer}{contact}，{channel}，{day}",
    "已约{customer}的{contact}，{day}，{channel}",
    "{vendor} × {customer}：{day}与{contact}{channel}",
)
PARAPHRASE_SWAPS = (
    ("痛点", "客户问题"), ("客户顾虑", "异议"), ("下一步", "后续安排"), ("对接人", "联系人"),
    ("客户反馈", "客户提到"), ("约定", "后续"), ("主要问题", "核心问题"), ("通了电话", "沟通了一次"),
    ("约好", "下一步"),
)
STAGE_NAMES = {
    "qualification": "初筛", "needs_diagnosis": "需求诊断", "solution_presentation": "方案呈现", "negotiation": "商务谈判",
}
CHANNELS = {"phone": "电话沟通", "video": "视频会议", "visit": "上门拜访"}

COURSES = {
    "questioning": ("高效提问技巧", "用开放式问题挖掘需求"),
    "needs_discovery": ("需求深挖：从现象到根因",),
    "active_listening": ("销售中的积极倾听",),
    "objection_handling": ("从容应对客户异议", "异议处理实战手册"),
    "competitor_handling": ("竞品应对与差异化",),
    "value_articulation": ("讲清业务价值",),
    "solution_customisation": ("方案定制化实战",),
    "price_negotiation": ("价格谈判的节奏", "不打折也能谈成"),
    "closing": ("促成与推进下一步",),
    "rapport": ("快速建立客户信任",),
    "product_knowledge": ("产品知识精讲",),
    "follow_up": ("让客户满意的跟进与响应",),
}

KQ_FALLBACK = {"question": "我们聊聊{topic}吧？", "answer": "好的，可以。"}

FILLERS = ("嗯，", "那个，", "就是说，", "然后，", "呃，", "其实，")
_REPEATABLE = ("我们", "你们", "这个", "我", "那")
_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_UNITS = re.compile(r"[\u4e00-\u9fff]|[A-Za-z0-9.%]+")


def format_money(value: float) -> str:
    """An amount in CNY as said in Mandarin: ``60万`` (rounded to ten thousand)."""
    return f"{max(1, int(round(value / 10000.0)))}万"


def format_day(day: date) -> str:
    """A date as said in Mandarin, e.g. ``3月4号周二``."""
    return f"{day.month}月{day.day}号{_WEEKDAYS[day.weekday()]}"


def finish(text: str) -> str:
    """Nothing to fix in Mandarin text."""
    return text


def count_units(text: str) -> int:
    """Characters (a Latin word or number counts as one), for the speaking-time estimate."""
    return len(_UNITS.findall(text))


def disfluent(text: str, rng: np.random.Generator) -> str:
    """Sometimes add 嗯/那个/就是说 or repeat the first word, as people talk."""
    roll = rng.random()
    if roll < 0.16:
        return FILLERS[int(rng.integers(len(FILLERS)))] + text
    if roll < 0.22:
        return _repeat_first_word(text)
    return text


def _repeat_first_word(text: str) -> str:
    for word in _REPEATABLE:
        if text.startswith(word):
            return f"{word}，{text}"
    return text


def make_person(rng: np.random.Generator, formal: bool) -> tuple[str, str, str]:
    """(full name, how the other side addresses them: 张总 for a customer, the full name for a colleague,
    e-mail local part in pinyin)."""
    surname, surname_py = SURNAMES[int(rng.integers(len(SURNAMES)))]
    given, given_py = GIVEN_NAMES[int(rng.integers(len(GIVEN_NAMES)))]
    address = surname + HONORIFICS[int(rng.integers(len(HONORIFICS)))] if formal else surname + given
    return surname + given, address, f"{given_py}.{surname_py}"


def make_company(rng: np.random.Generator, industry: str) -> tuple[str, str]:
    """(registered name, e.g. 杭州华锐物流有限公司, and the short name people say, 华锐)."""
    stem = COMPANY_STEMS[int(rng.integers(len(COMPANY_STEMS)))]
    suffixes = COMPANY_SUFFIXES[industry]
    city = CITY_PREFIXES[int(rng.integers(len(CITY_PREFIXES)))]
    return f"{city}{stem}{suffixes[int(rng.integers(len(suffixes)))]}有限公司", stem
