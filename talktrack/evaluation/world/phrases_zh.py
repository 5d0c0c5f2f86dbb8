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
        "方便的，[正好|刚好]有空。",
        "嗯，可以，我这边大概有[半个小时|二十分钟|一刻钟]。",
        "好的好的，[开始吧|咱们开始吧|你说]。",
        "你好，[等你电话呢|正等着你呢]。",
        "{rep_first}你好，你说吧。",
        "[不好意思|抱歉]，刚[开完会|从会议室出来]，[现在可以了|你说吧]。",
        "{rep_first}，[上午好|下午好]！[最近怎么样|最近还好吧]？",
        "{rep_first}你好，[我们|我这边]{contact2}[也在|也一起听]，[没问题吧|你不介意吧]。",
    ),
    "rapport.rep": (
        "上次您说要去{city}出差，还顺利吧？",
        "我看{customer}最近在招人，挂了{open_positions}个岗位，[业务发展挺快啊|看来业务不错啊|最近挺忙吧]。",
        "[这周|最近][忙不忙|还好吗][，{contact_first}|]？",
        "[季度末|月底|节前]那阵子应该挺忙的吧？",
        "听说你们刚搬了新办公室，[环境怎么样|还习惯吗]？",
        "上次你们[团队出去团建|去参加展会|开年会]，[玩得开心吗|顺利吗]？",
        "最近[天气变化大|{city}降温了]，您那边还好吧？",
    ),
    "rapport.customer": (
        "还行，老样子，[忙|挺忙的]。",
        "挺顺利的，就是有点[赶|累]。",
        "别提了，这[周|个月]事特别多。",
        "不错不错，新来了[几个|两个]同事。",
        "还可以，没什么好抱怨的。",
        "忙是忙，总算理顺了[一些|]。",
        "{city}[那边|这趟][还行|挺好的]，就是[会太多|来回跑太累]了。",
        "[哈|唉]，[别提了|一言难尽]，[不过|反正][还行|都挺好]。",
        "[忙|挺忙的]，[最近|这个月]在[招|面试][几个|{open_positions}个]人。",
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
        "你们[现在|目前]这块是怎么处理的？",
        "订单进来之后，整个流程是怎样的，能讲讲吗？",
        "团队[一周|一天]的工作大概是什么样的？",
        "如果可以改，您最想先改哪一块？",
        "现在这套做法是怎么形成的？",
        "这个对你们的[客户|终端客户]有什么影响？",
        "团队之间在这件事上是怎么配合的？",
        "[一般|通常]在哪个环节[最容易|经常][出问题|卡住]？",
    ),
    "q.closed": (
        "这个是手工做的吗？",
        "现在有用什么[工具|软件]吗？",
        "每个[分公司|门店|网点]都一样吗？",
        "每个[月|星期]都会这样吗？",
        "IT那边有参与吗？",
        "这个流程是您负责吗？",
        "[今年|最近][是不是|有没有]更[严重|糟]了？",
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
        "对，[几乎每次|基本每次|大部分时候]都这样。",
        "还没有[，之前讨论过|]。",
        "是的，没错。",
        "看情况吧[，每个部门不一样|，每周都不太一样|]。",
        "我[觉得|印象中]是，[不过|但]得跟{contact2}再确认一下。",
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
        "没错[，是这样|]。",
        "对，就是这个。",
        "是的，你理解得[对|没错|很准]。",
        "对，而且[越来越严重了|最近更严重了]。",
        "差不多就是这样。",
        "对，[说实话|其实][实际情况|真实数字][可能|估计]还更[严重|糟]一点。",
        "[对|是]，[差不多就是这么回事|总结得挺到位]，{rep_first}。",
        "[基本上|大体上]是，{contact2}[可能|估计][说得更严重|会说得不一样]，[不过|但][大概|基本]是这样。",
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
        "嗯，听起来挺[有用|实用]的。",
        "有意思，那[部署|上线]要多久？",
        "如果真能做到，那确实有帮助。",
        "对，我关心的就是这个。",
        "理论上听着不错[，就看实际了|]。",
        "好，这个思路我认可。",
        "[哦|噢]，这样[{contact2}|我们团队][肯定|应该]会[喜欢|很欢迎]。",
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
        "好吧，这样[可以|也行]。",
        "行，这个我能接受[，先这样|]。",
        "嗯，好，这个[有帮助|帮助挺大]。",
        "哦，这个我之前不知道，[挺好|那不一样了]。",
        "这个[合理|说得过去]。",
    ),
    "react.push_back": (
        "说实话我心里还是没底。",
        "我还是没[完全|太]被说服。",
        "嗯，我再考虑考虑吧。",
        "这个没有真正解决我的问题[啊|]。",
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
        "行，你发个邀请给我[，抄送一下{contact2}|]。",
        "好，就这么定。",
        "应该没问题，我跟团队确认一下[，明天回你|]。",
        "好的，那就{date}。",
        "可以，你安排吧。",
        "我看一下，{date}[是吧|啊]，[行|可以]，[我调一下|你约吧]。",
    ),
    "bye.rep": (
        "好的，谢谢{contact_first}，我们保持联系。",
        "今天太感谢您了[，{contact_first}|]。",
        "好的，那不打扰您了。",
        "谢谢{contact_first}，我回头[邮件|微信]跟进。",
        "感谢感谢，回头聊。",
        "谢谢您，先这样，再见。",
        "[好|行]，[纪要|会议记录]我[今天|晚点]发您，[再次感谢|辛苦了]，{contact_first}。",
    ),
    "bye.customer": (
        "好，拜拜。",
        "行，[回头聊|{date}见|下周聊]。",
        "谢谢，你也辛苦了。",
        "好的，再见。",
        "好，谢谢{rep_first}。",
        "嗯，先这样。",
        "[好的|行]，{rep_first}，[辛苦了|回头联系]。",
        "[谢谢|辛苦]你[讲这么细|跑一趟|花时间]，{rep_first}，[拜拜|再见]。",
        "[好的|行]，那[{date}|下周|回头][再聊|见]。",
        "[今天聊得挺好|今天收获挺大]，[我|回头]跟{contact2}[同步一下|说一声]。",
    ),
    "backchannel.customer": (
        "嗯嗯。",
        "对。",
        "好的。",
        "是的。",
        "明白。",
        "嗯。",
        "对对。",
        "[哦|噢]，[这样|好]。",
    ),
    "backchannel.rep": (
        "嗯嗯。",
        "对。",
        "明白。",
        "好的。",
        "了解。",
        "是。",
        "对对。",
        "[哦|噢]，[这样|好]。",
    ),
}

KEY_QUESTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "need_trigger": {
        "open": ("是什么让你们现在开始考虑这件事的？", "这次是什么原因促使你们找方案的？",
                 "为什么今年要把这件事提上日程？", "[这次|今年]是[什么|哪些][变化|事情]让[这个|这件事][提上日程|变急]了？"),
        "closed": ("是出了什么具体的事情吗？", "最近是有什么变化吗？", "是领导那边提出来的吗？", "是[有|出了][什么|哪件][具体的|]事[触发|引起]的吗？"),
        "answer": ("最近问题集中爆发了。", "是出了点状况。", "其实积累很久了。", "领导终于注意到了。",
                   "说实话，上个月情况很糟。", "原因挺多的。"),
    },
    "decision_maker": {
        "open": ("这件事最后谁来拍板？", "选型的时候还有谁参与？", "{customer}这种决策一般是怎么定的？", "[说到底|最后][谁|哪位][拍板|签字][呢|]？"),
        "closed": ("最后是您来决定吗？", "需要{decision_maker}批准吗？", "还有其他人要签字吗？", "[最后|最终][是不是|会不会]要[到|报到]{decision_maker}那[里|边]？"),
        "answer": ("最后是{decision_maker}定。", "{decision_maker}签字，我来提建议。", "要报到{decision_maker}那里。",
                   "我跟{decision_maker}一起定。", "{decision_maker}说了算。", "我这边先过，然后{decision_maker}审批。"),
    },
    "budget": {
        "open": ("这个项目你们预算大概是多少？", "预算这块你们是怎么考虑的？", "这次的预算情况能说一下吗？", "[大概|粗略][打算|准备][投|花][多少|多少钱]在这上面？"),
        "closed": ("预算已经批下来了吗？", "心里有个大概的数吗？", "今年的预算已经分配了吗？", "[这块|这个项目][钱|预算][已经|是不是][留出来|定下来]了？"),
        "answer": ("我们大概有{budget}。", "预算差不多{budget}。", "{budget}左右，方案好的话可以再争取一点。",
                   "{budget}，已经挺紧了。", "财务批了{budget}。", "第一年我们想控制在{budget}。"),
    },
    "timeline": {
        "open": ("你们希望什么时候落地？", "时间上是怎么计划的？", "你们大概什么时候要做决定？", "[理想|实际]情况下，[什么时候|哪个时间点]能[定下来|做决定]？"),
        "closed": ("这个季度会采购吗？", "有截止时间吗？", "目标是{deadline}吗？", "[这个季度|{deadline}]能[定下来|采购]吗？"),
        "answer": ("最好{deadline}之前。", "我们想在{deadline}之前定下来。", "最晚{deadline}。", "目标是{deadline}。",
                   "尽量{deadline}之前吧。", "{deadline}之前必须跑起来。"),
    },
    "pain_points": {
        "open": ("你们现在最想解决的问题是什么？", "现在最痛的地方在哪儿？", "现在的流程哪里最不顺？", "[如果|要是]只挑一个，[现在|目前][最|最让人]头疼的是什么？"),
        "closed": ("主要问题是手工太多吗？", "这个已经造成实际影响了吗？", "这个会导致丢客户吗？", "[是不是|主要是][手工|出错][最|特别][耗时间|费钱]？"),
        "answer": ("最大的问题很明显。", "从哪儿说起呢。", "问题不少，但最主要的是一个。", "我给你个数字吧。",
                   "说出来不好听。", "有一件事特别突出。"),
    },
    "current_solution": {
        "open": ("你们现在用的是什么？", "目前这块是怎么做的？", "之前试过哪些工具？", "[现在|目前][这块|这件事][靠什么|用什么][在做|来管]？"),
        "closed": ("现在用的是{competitor}吗？", "有专门的系统吗？", "有看过别的厂商吗？", "[之前|已经][看过|试过][{competitor}|别家]吗？"),
        "answer": ("一部分用{competitor}，剩下的靠表格。", "主要是Excel，也看过{competitor}。",
                   "用的{competitor}，但不太满意。", "去年试过{competitor}。", "自己做了个小工具，还有一个分公司在用{competitor}。",
                   "没有正经的系统，{competitor}也给我们报过价。"),
    },
    "decision_process": {
        "open": ("你们采购流程一般是怎么走的？", "要批下来需要哪些步骤？", "{customer}这类采购通常怎么推进？", "[跟我讲讲|能不能讲讲]{customer}[买这种东西|这类采购][要|得]走哪些[流程|步骤]？"),
        "closed": ("采购需要走招标吗？", "有评审小组吗？", "合同要法务审吗？", "[采购|法务][也|是不是][要|得][参与|审]？"),
        "answer": ("有个{committee}人的评审小组。", "先走采购，然后{decision_maker}，最后法务。",
                   "{committee}个人评估，{decision_maker}最后拍板。", "一般两轮，{decision_maker}签字。",
                   "{committee}个人，大概要一个月。", "法务审完给{decision_maker}。"),
    },
    "success_criteria": {
        "open": ("你们怎么衡量这个项目成不成功？", "一年以后什么样算是做成了？", "您希望看到什么样的结果？", "[一年以后|明年这时候]，[什么样|怎样]算是[值了|做成了]？"),
        "closed": ("手工工作量减半算成功吗？", "有具体的目标数字吗？", "这个要跟管理层汇报吗？", "[有没有|有][具体的|明确的][数字|指标][来|用来]衡量？"),
        "answer": ("能砍掉一半我就满意了。", "投诉少了就行，就这么简单。", "董事会要看到明确的数字。",
                   "手工少一点、错误少一点。", "团队周末不用加班就算成功。", "每周都能看清楚情况。"),
    },
    "delivery_timeline": {
        "open": ("你们需要什么时候上线？", "上线窗口是怎么安排的？", "多快需要用起来？", "[最晚|最迟][什么时候|哪天][必须|要][上线|用起来]？"),
        "closed": ("{deadline}上线是硬性要求吗？", "可以分阶段上线吗？", "IT有人力配合实施吗？", "[分阶段|分批][上线|推]可以[接受|吗][吗|]？"),
        "answer": ("{deadline}之前必须上线。", "希望{deadline}之前上线。", "分阶段可以，但{deadline}之前要启动。",
                   "{deadline}是死线。", "{deadline}之前，业务高峰马上要来了。", "最好{deadline}之前。"),
    },
    "payment_terms": {
        "open": ("付款条件你们一般怎么安排？", "财务那边对账期有什么要求？", "什么样的付款节奏对你们合适？", "[财务|你们][更|比较][喜欢|习惯][怎么|什么样的][付款|结算]？"),
        "closed": ("{payment_terms}天账期可以吗？", "你们一般是年付吗？", "按季度付可以吗？", "[{payment_terms}天账期|按季度付][财务|你们]能接受吗？"),
        "answer": ("我们标准是{payment_terms}天账期。", "财务一般要{payment_terms}天。", "按季度付会好一点。",
                   "一般是收到发票后{payment_terms}天付款。", "价格合适的话年付也行。", "{payment_terms}天，这是公司规定。"),
    },
    "onboarding_owner": {
        "open": ("上线这块你们谁来负责？", "我们的项目经理跟谁对接？", "内部推广谁来牵头？", "[内部|你们那边][谁|哪位][来|会][牵头|负责]上线？"),
        "closed": ("是您亲自负责上线吗？", "是IT牵头实施吗？", "项目负责人定了吗？", "[是|会是]{contact2}[来|]负责[上线|推进]吗？"),
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


# -- composed phrasings (see compose.py: [a|b|] is a choice) ------------------------------------------
# Objection families beside "direct" (PHRASES["obj.<type>"]): indirect, hedged, question; every
# sentence of a template carries the objection.
OBJECTION_VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "price": {
        "indirect": (
            "[这笔钱|这个钱]得从[别的项目|其他预算]里[挪|抠]出来才行。",
            "财务[刚|前两天][把|给]我们今年的[软件|IT]预算[砍了|压了一刀]。",
            "我们[手上|这边]就{budget}，[多一分都没有|再多就批不下来了]。",
            "{amount}[拿到|报到]{decision_maker}那里，[估计|肯定]过不了。",
            "[去年|上次]买[个|一套]系统才[花|用了]不到{budget}，[大家|领导]还[嫌贵|有意见]。",
            "[今年|现在]公司[在|正在]降本增效，[每一分钱|每笔开支]都[盯得很紧|要过好几道]。",
        ),
        "hedged": (
            "[可能|也许]是我[想多了|不太懂行]，[但|不过]{amount}[感觉|好像][稍微|有点]高了。",
            "我[不太确定|说不好]这个[账|数字]对我们来说[算得过来|合不合适]。",
            "[感觉|好像]比我们[预想的|计划的][要|稍微]高[那么|]一点[吧|]。",
            "价格[这块|方面][可能|估计][会是个|是个][坎|问题][吧|]。",
        ),
        "question": (
            "价格[上|这块][还有没有|有没有][空间|商量的余地]？",
            "我们[只有|就批了]{budget}，[为什么|怎么]要{amount}？",
            "[能不能|可不可以][往|再往]{budget}[靠一靠|降一降]？",
            "{amount}[具体|到底]包含[哪些|什么]东西？",
            "有没有[小一点|便宜一点|轻一点]的[版本|套餐][先用着|可以先上]？",
        ),
    },
    "competitor": {
        "indirect": (
            "{competitor}[报的价|给的报价][比你们|]低了[两成|三成|不少]。",
            "我们IT[负责人|那边][其实|本来]更[倾向|看好]{competitor}。",
            "{competitor}的方案[现在|上周就][已经|]在我桌上了。",
            "{competitor}[上周|前几天][派人|带团队]过来[做了|搞了][一次|一场][演示|交流]。",
            "我们[兄弟公司|合作伙伴][有|好几家][都|已经]在用{competitor}了。",
        ),
        "hedged": (
            "[感觉|好像]{competitor}[大部分|很多][功能|东西][也能做|也有]。",
            "[说不定|也许]{competitor}更[适合|贴合]我们，[我也说不准|还不好说]。",
            "[我们|团队]有[几个|一些]同事[比较|好像][偏向|倾向]{competitor}。",
        ),
        "question": (
            "你们[有什么|能做到什么]是{competitor}[做不到|没有]的？",
            "你们跟{competitor}[比|相比]，[到底|具体][好在哪|有什么区别]？",
            "我们为什么要从{competitor}[换过来|换到你们这]？",
            "[你们|之前]有没有[在|跟]我们这样的公司[赢过|打赢过]{competitor}？",
        ),
    },
    "timing": {
        "indirect": (
            "我们[正在|现在在][上ERP|搞组织调整|做预算]，[一直|要]到{deadline}。",
            "{deadline}之前[大家|团队][根本|实在]没[精力|时间]搞新项目。",
            "[领导|上面][刚|已经][说了|定了]，{deadline}之前新项目[一律|先]不上。",
            "[要不|不如]{deadline}[以后|之后]我们再[约|聊]？",
            "我们[一半的人|团队一半人][都|]在[忙别的项目|休假]，[要|得]到{deadline}。",
        ),
        "hedged": (
            "[我觉得|感觉][现在|这会儿][可能|也许][有点|稍微]早了。",
            "[可能|也许][下个季度|{deadline}以后][会|]更合适[一些|]，[我也不确定|说不好]。",
            "我[不太确定|怀疑][这个季度|现在][能不能|排不排得][排进来|开得了这个头]。",
        ),
        "question": (
            "[能不能|可不可以][推到|放到]{deadline}以后[再说|再启动]？",
            "[一定|非得]要[这个季度|现在][启动|开始]吗？",
            "[如果|要是]我们等到{deadline}，[会怎么样|有什么影响]？",
            "你们那边[很急吗|着急吗]？我们这边[倒是|其实][不急|不着急]。",
        ),
    },
    "authority": {
        "indirect": (
            "我[得|要]先[拿给|报给]{decision_maker}[看看|过一下]。",
            "{decision_maker}[一般|每次]都要[看三家报价|先看完整的方案]才[签|拍板]。",
            "[超过|过了][五十万|一定金额]的[采购|项目][都|要]上[董事会|{decision_maker}那里]。",
            "采购[部门|那边][肯定|一定]要[走招标|走正式流程]。",
            "[上次|去年]我[推|报]了个类似的，{decision_maker}[直接|]给[打回来了|否了]。",
        ),
        "hedged": (
            "我[估计|感觉]{decision_maker}[可能|应该]也想[参与|过问]一下。",
            "[这个|这件事]我一个人[可能|恐怕][定不下来|拍不了板]。",
            "[大概|可能]得[委员会|我们{committee}个人][一起|都][看过|同意]才行。",
        ),
        "question": (
            "[能不能|可以]给我[一份|一个]材料，我[转给|拿给]{decision_maker}[看看|]？",
            "你们[能不能|方便]直接跟{decision_maker}[汇报|讲]一下吗？",
            "你们一般[是谁|哪位]跟我们[采购|财务][对接|沟通]？",
        ),
    },
    "need": {
        "indirect": (
            "[我们|这么多年][一直|都是]用[Excel|表格|现在这套][过来的|撑着]，[也还行|问题不大]。",
            "[大家|团队][已经|都][习惯|用惯了]现在的[流程|做法]了。",
            "[这个问题|这种情况][一年|一个季度]也就[碰到|出]一两次。",
            "我们IT[说|觉得][自己|内部][就能|也能][做一个|写个脚本]。",
        ),
        "hedged": (
            "我[不确定|不知道]这个[对我们|现在]是不是[刚需|优先级很高]。",
            "[可能|也许][这个|你们这套][对我们来说|][有点|稍微][超前|多了]。",
            "[应该|可能]会有帮助，[但|不过][帮助多大|效果多少][我说不好|不好说]。",
        ),
        "question": (
            "这个[到底|具体]能[帮我们|给我们][解决|改变]什么？",
            "[现在|现有]这套[还能用|用得好好的]，为什么要[换|上新的]？",
            "[我们|就]{users}个人，[真的|]有必要[上这个|搞这么一套]吗？",
        ),
    },
    "trust": {
        "indirect": (
            "我们[上一家|之前的]供应商[做到一半|项目没做完][就|]跑路了。",
            "[法务|我们安全部门][会|肯定会]把你们的合同[一条一条|逐条][过|抠]。",
            "[我们行业|我们这种规模的][好像|我]还没听说[有谁|哪家]在用你们。",
            "[大家|团队][到现在|]还[记得|在说]上次[那个|那套]系统[上线失败|搞砸]的事。",
        ),
        "hedged": (
            "把数据交给[一家|比较][新的|小的][公司|供应商]，我[心里|多少][有点|还是][没底|打鼓]。",
            "[我们|我][可能|估计][还是|]想[先|多][看看|要]几个[案例|客户参考]。",
            "[可能|也许]是我[太谨慎|想多了]，[但|不过]我还不[完全|太]相信[能在我们这跑得起来|这个能行]。",
        ),
        "question": (
            "[你们有没有|能不能给]我们行业的[客户|案例][参考|介绍一下]？",
            "[万一|要是]你们[被收购|经营不下去]了，我们的数据怎么办？",
            "我怎么[跟老板|]保证[这次|这个]不会[像上次那样|又]失败？",
            "[跟我们|我们这个]规模差不多的，[有哪些|都有谁]在用？",
        ),
    },
    "delivery": {
        "indirect": (
            "我们IT[到|一直到]{deadline}都[排满了|忙不过来]。",
            "{deadline}[一过|以后][就是|马上]旺季，[系统|业务][一点|][不能出问题|不能停]。",
            "[上次|之前那个项目][实施|上线][拖了|晚了][三个月|好几个月]，[大家都还记得|现在还被说]。",
            "[老数据|历史数据][没人|我们这边没人][能整理|能迁移]。",
        ),
        "hedged": (
            "[我不太确定|说实话我怀疑]{deadline}[能不能|之前能][上线|弄好]。",
            "我[有点|比较]担心[实施|迁移][会|可能会][拖|超期]。",
            "[可能|感觉]你们[这个|的]时间表对我们来说[有点|稍微][乐观|紧]了。",
        ),
        "question": (
            "[实施|上线][大概|到底]要[多久|几周]？",
            "数据迁移是[你们做还是我们做|谁来负责]？",
            "[你们|]{deadline}之前[真的|确定][能|可以]让我们上线吗？",
        ),
    },
}
MOVE_VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "acknowledge": {"spoken": (
        "[对对|嗯嗯|是的]，[这个|您说的][我理解|我明白]。",
        "[您提|这个点提]得[很|挺][实在|在理]，[确实|的确][要考虑|是个问题]。",
        "[明白|理解]，{concern}对[你们|您这边]来说[确实|肯定][很重要|是大事]。",
        "[还好|幸好]您[说出来了|提了]，[很多|不少][客户|公司][一开始|]也[这么想|有这个疑问]。",
    )},
    "clarify": {"spoken": (
        "[方便|能]说说[背后|具体][是什么原因|的考虑]吗？",
        "您说的{concern}，[具体|主要]是[指|担心]哪[方面|一块]？",
        "[主要|更多]是{concern}，还是[有|]别的[原因|顾虑]？",
        "[能不能|可以][再|多]跟我[讲讲|说说][这个|这块]？",
    )},
    "confirm_timeline": {"spoken": (
        "[时间上|那时间这块]，你们还是[按|奔着]{deadline}[来|走]吗？",
        "你们[理想|实际]是[想|要][什么时候|哪天][用起来|上线]？",
        "{deadline}这个[时间|节点][还是|]没变吧，还是[往后|有]调整了？",
        "[你们|这个项目][实际|真正]的[采购|截止]时间大概是[什么时候|哪天]？",
    )},
    "reframe_value": {"spoken": (
        "您[换个角度|这么]想，{pain_note}[每个月|每周]都[在花钱|是成本]。",
        "[说实话|其实]，[更大的|真正的]成本是{pain_note}，不是[我们的报价|这个价格]。",
        "{pain_note}[解决了|没了]的话，[这笔钱|这个投入][很快|没多久]就[回来了|赚回来了]。",
        "跟{pain_note}[比|相比]，[这个价格|这点投入][其实|真的][不算多|不高]。",
    )},
    "cite_case": {"spoken": (
        "[说来也巧|其实]，{case_customer}[去年|之前][也|]说过[一模一样|差不多]的话。",
        "[我们有个|有一家]客户{case_customer}，[规模|情况]跟你们[差不多|很像]，[提升了|省了]{case_pct}%。",
        "[需要的话|您要是愿意]，我[可以|帮您][约|联系]{case_customer}的[人|负责人]聊聊。",
        "{case_customer}[当时|之前]也[有|担心]这个问题，[后来|现在][用得挺好|很满意]。",
    )},
    "offer_installments": {"spoken": (
        "[要不|或者]我们[分|拆成]{installments}[期|次][付|来付]？",
        "[付款|钱]可以[分|摊][到|成]{installments}个季度。",
        "分{installments}[期|次]付的话，今年[应该|就]能[控制|压]在{budget}以内。",
    )},
    "offer_discount": {"spoken": (
        "[这样吧|行]，我[争取|可以][再|]给您[让|降]{discount}个点。",
        "我[去|跟领导][申请|问问]，看能不能[再|]降{discount}个点。",
        "[这个月|本周]能签的话，[可以|能]给到{discount}个点的[折扣|优惠]。",
    )},
    "compare_competitor": {"spoken": (
        "{competitor}[的问题|那边]是[集成|实施][要另外收费|不包含在里面]。",
        "{competitor}[也不错|挺好的]，[不过|但]我们上线[快得多|几周就能上]。",
        "[算总账|三年算下来]，我们[比|跟]{competitor}[比|][还要便宜|更划算]。",
    )},
    "map_decision_chain": {"spoken": (
        "[除了您|那]，[还有谁|哪些人][要|会][参与|拍板]？",
        "[你们|贵司]审批[一般|大概][怎么走|是什么流程]？",
        "{decision_maker}[是最后签字的|最后拍板]吗，还是[有个委员会|还有别人]？",
        "[后面|到时候][有没有|会不会]有人[卡|反对]这个事？",
    )},
    "offer_pilot": {"spoken": (
        "[要不|不如]先[找一个团队|拿一个部门][试|跑]{pilot_weeks}周？",
        "[我们可以|可以]先做[个|一个][小范围|短期]试点，{pilot_weeks}周，[风险很小|没什么压力]。",
        "{pilot_weeks}周的试点[就能|基本就能][看出|验证]行不行。",
    )},
    "provide_guarantee": {"spoken": (
        "[而且|另外][万一|如果][效果不好|我们没做到]，{guarantee_days}天内[可以|随时][退出|退款]。",
        "[保障|服务等级][我们|都][可以|会]写进合同里。",
        "[要是|如果]我们[延期|没按时上线]，前{guarantee_days}天[我们出|免费]。",
    )},
    "confirm_delivery_plan": {"spoken": (
        "[实际|大概]从签约到上线是{weeks}周。",
        "[迁移|数据迁移]我们来做，[你们IT|你们]每周[只要|就]配合几个小时。",
        "[整体|我们的]计划是[部署|搭建]、迁移、[再|然后]培训，[一共|总共]{weeks}周。",
    )},
    "propose_next_step": {"spoken": (
        "[那|要不]我们[先|]把{next_action}[定在|约在]{date}？",
        "{date}[做|安排]{next_action}，[您看行吗|怎么样]？",
        "我[来|先][约|发邀请][一下|]{date}的{next_action}，[好吧|可以吗]？",
    )},
}
OPENERS = {
    "rep": ("好的，", "嗯，", "那个，", "{contact_first}，", "那{contact_first}，", "对了，", "另外，", "是这样，",
            "您看，", "不好意思[打断一下|插一句]，", "明白，", "OK，", "好，那", "[其实|说实话]，"),
    "customer": ("嗯，", "那个，", "就是说，", "说实话，", "其实，", "怎么说呢，", "这个嘛，", "对，", "哎，",
                 "不好意思[插一句|打断一下]，", "你看，", "反正，", "唉，", "[这样|是这样]，"),
}
# Interjections open short turns (greetings, thanks, "对"), where a hedge would be odd.
INTERJECTIONS = ("哦，", "啊，", "嗯，", "诶，", "好，", "噢，", "嗯嗯，", "行，", "对，", "哎，", "好嘞，", "那行，")
# How a rep leads into a question, and the short sentence that may follow it.
QUESTION_OPENERS = ("我想问一下，", "顺便问一下，", "请教一下，", "我好奇问一句，", "{contact_first}，问您个问题，",
                    "[那|然后]，", "[好|行]，下一个问题，", "我确认一下，")
# Short sentences that may follow a turn, by act and role.
AFTERWORDS = {
    "question.rep": ("大概说说就行。", "不用很精确。", "我就是想了解一下全貌。", "随便聊聊就行。",
                     "{case_customer}之前也是[这个|类似的]情况，所以问一下。", "想听听{customer}是怎么做的。",
                     "您慢慢说。", "有个大概的数就行。"),
    "farewell.rep": ("[替我|帮我]跟{contact2}问[个好|好]。", "[纪要|资料|方案][今晚|会后]发您。",
                     "[祝|预祝]{deadline}[一切顺利|顺顺利利]！", "[周末愉快|您先忙]。"),
    "farewell.customer": ("[帮我|]跟团队[问好|说一声]。", "[案例|资料|PPT][发我|发我邮箱]一下。",
                          "我[今天|明天][跟|和]{contact2}[同步|说]一下。", "[今天|这次]聊得[不错|挺好]。"),
    "greet.customer": ("[稍等|等一下]，我[关个门|换个安静的地方]。", "{contact2}[可能|待会儿][也会|会][进来|加入]。",
                       "我[只有|就]半个小时[啊|哈]。"),
}
# A short sentence of its own before a turn that is not a moment (it would be labelled with it).
PREAMBLES = {
    "rep": ("好的好的。", "明白。", "了解。", "这个信息很有用。", "OK。", "收到。", "好，记下了。",
            "[好的|嗯]，{contact_first}。", "不好意思，刚才信号断了一下。"),
    "customer": ("这个问题问得好。", "我想想啊。", "嗯，我看看。", "好的。", "不好意思，刚才信号不太好。",
                 "喂？能听到吗？好。", "这个嘛。", "嗯，对。", "你说的是这个啊。"),
}
TAILS = {"。": ("，说实话", "，真的", "，说真的", "，我个人感觉", "，反正是这样", "，你懂的")}
# Everyday English words in a Chinese B2B conversation (code-switching), with the words they replace.
CODE_SWITCH = (("预算", "budget"), ("演示", "demo"), ("方案", "proposal"), ("价格", "price"), ("合同", "contract"),
               ("试点", "pilot"), ("折扣", "discount"), ("上线", "go-live"), ("流程", "process"), ("项目", "project"),
               ("报价", "quote"), ("数据", "data"), ("系统", "system"), ("好的", "OK"), ("案例", "case"),
               ("时间表", "timeline"), ("老板", "boss"))
CODE_SWITCH_P = 0.35


def objection_families(objection_type: str) -> dict[str, tuple[str, ...]]:
    """The phrasing families of an objection type: direct, indirect, hedged, question."""
    return {"direct": PHRASES[f"obj.{objection_type}"], **OBJECTION_VARIANTS[objection_type]}


def move_families(move: str) -> dict[str, tuple[str, ...]]:
    """The phrasing families of an answer move: plain and spoken."""
    return {"plain": PHRASES[f"move.{move}"], **MOVE_VARIANTS[move]}


def open_with(opener: str, text: str) -> str:
    return opener + text


def with_tail(text: str, rng: np.random.Generator) -> str:
    """A tag before the final '。' (none on other endings)."""
    tails = TAILS.get(text[-1:], ())
    return text[:-1] + tails[int(rng.integers(len(tails)))] + text[-1] if tails else text


def code_switch(text: str, rng: np.random.Generator) -> str:
    """Sometimes say one or two of the words of ``CODE_SWITCH`` in English, as Chinese sales teams do."""
    if rng.random() >= CODE_SWITCH_P:
        return text
    present = [pair for pair in CODE_SWITCH if pair[0] in text]
    if not present:
        return text
    chosen = rng.choice(len(present), size=min(len(present), int(rng.integers(1, 3))), replace=False)
    for index in sorted(chosen):
        chinese, english = present[index]
        text = text.replace(chinese, english)
    return text
