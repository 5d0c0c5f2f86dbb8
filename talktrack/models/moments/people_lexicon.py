"""The words :mod:`talktrack.models.moments.people` reads a decision chain by, English and Chinese.

Kept apart from the reading logic so that a team can extend a title or a cue without touching
it. Each cue is what a rep writes about a person in a field note, grouped by the role a sales
manager would record; the patterns are general business vocabulary (departments, title heads,
company words, Chinese surnames), not phrases of any test note.
"""

from __future__ import annotations

import re

CJK = re.compile(r"[\u4e00-\u9fff]")

# -- English titles: department words + a head word (+ "of <department>" or a department after VP)
_DEPT = (r"ops|operations|sales|engineering|claims|customer|experience|success|cx|cs|marketing|finance|it|hr|product|"
         r"support|commercial|excellence|retail|e-commerce|ecommerce|procurement|purchasing|recruiting|revops|"
         r"security|compliance|patient|access|care|services?|member|card|fleet|ad|admissions|tech|technology|training|"
         r"workforce|mgmt|management|collections|payments|billing|underwriting|lending|plant|nurse|medical|development|revenue|membership|branch|call|center|centre|"
         r"contact|front|desk|office|property|practice|dispatch|legal|data|digital|business|strategy|partnerships|"
         r"accounts?|field|enterprise|people|facilities|logistics|supply|chain|quality|risk|treasury|store|regional|"
         r"group|general|managing|executive|global|national|area|district|deputy|assistant|associate|senior|sr\.?|"
         r"junior|chief|clinical|nursing|infrastructure|network|innovation|transformation|growth|channel|inside")
_HEAD = (r"manager|mgr|director|dir|lead|head|supervisor|officer|controller|(?<!budget )(?<!Budget )owner|partner|superintendent|admin|"
         r"administrator|coordinator|consultant|(?<!economic )buyer|president|vp|svp|evp|founder|ceo|cfo|coo|cto|cio|"
         r"cmo|cro|ciso|gm|pm|md|principal|chairman|counsel|chief|(?<!on )board")
_STOP = (r"the|our|their|his|her|its|a|an|and|or|to|with|w|from|at|by|for|of|is|was|are|be|met|spoke|talked|saw|"
         r"call|said|says|asked|new|also|but|then|who|that|this|when|where|on|in|into|about|via|plus|both|other|main|big|"
         r"biggest|only|good|great|very|not|no|get|got|has|have|had|will|would|can|must|needs?|wants?|thinks?|"
         r"make|makes|runs?|one|all|any|each|every|day")
_MOD = rf"(?:{_DEPT}|(?!(?:{_STOP}|{_HEAD})\b)(?-i:[a-z][a-z-]+))"
EN_TITLE = re.compile(
    rf"(?:^(?!(?:{_STOP})\b)(?-i:[A-Z][a-z]+)\s+)?\b(?:{_MOD}\s+){{0,3}}(?:[A-Za-z]+[-/])?(?:{_HEAD})(?:\s*(?:&|and)\s*(?:{_HEAD}))?\b"
    rf"(?:\s+of\s+{_MOD}(?:\s+{_MOD}){{0,2}}\b|(?:\s+(?:{_DEPT})\b(?!\s+(?:{_HEAD})\b)){{0,2}})?",
    re.I)

# -- English names: capitalised First Last; words that are never part of a person's name
EN_NAME_TOKEN = re.compile(r"(?:O['’])?[A-Z][a-z]+(?:[A-Z][a-z]+|-[A-Z][a-z]+)?(?!['’]s)(?![A-Za-z])")
EN_NOT_NAME = frozenset("""
met meet meeting spoke talked talk call called saw visited visiting phoned emailed chatted caught grabbed had
lunch site visit quick quickly sending send sent booked booking problem
only next need needs final decision budget pilot contact owner the their our his her he she they we i it this that
very great not nothing follow check ping demo security compliance revised get will would told left set kickoff
integration tentatively sync monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri january
february march april may june july august september october november december jan feb mar apr jun jul aug sep sept
oct nov dec q1 q2 q3 q4 dr mr ms mrs prof ceo cfo coo cto cio cmo cro vp svp gm pm it ops sales head director
manager procurement purchasing finance board case roi aws sso eu iso soc dpa saas ai qa rfp usd also but and so
then after before anyway honestly apparently probably maybe however still just already worried wants likes loves big
""".split())
EN_COMPANY_WORDS = frozenset("""
logistics foods food dental health freight insurance retail manufacturing legal schools school auto group analytics
telecom travel bank hotels hotel pharma staffing realty credit union security marinas media construction clinics
clinic solar wealth outdoor software home care equipment rentals charities pay gyms hospitality fleet telehealth
services vet airlines bio energy uni university district marine property mgmt inc ltd llc corp co labs systems tech
technologies partners holdings capital brokers parts pharmacy broadband bakery storage builders engineering
couriers telecoms networks industries solutions consulting studios ventures markets supermarkets foods restaurants
repair garage motors shops cloud platform suite hub crm law
""".split())

# title then name ("CFO, Mark Feld", "IT consultant (external) Alan Price", "Owner Dr. Sam Patel")
EN_TITLE_NAME_GAP = r",?\s*(?:\([^)]*\)\s*)?(?:(?:Dr|Mr|Ms|Mrs)\.?\s+)?|\s+is\s+"
# a title's capitalised department after "of", up to a First Last name: "Director of Guest Experience Ingrid Solberg"
EN_TITLE_OF_CAPITALISED = re.compile(r"(?i:(?<=head)|(?<=ctor)|(?<=\bvp)|(?<=hief)|(?<=icer))\s+of\s+(?:[A-Z][a-z&]+\s+){1,3}(?=[A-Z][a-z]+\s+[A-Z][a-z]+(?:\W|$))")
# name then title ("Priya Nair, head of ops", "Tom Becker (IT mgr", "Zoe Adams - sales director")
EN_NAME_TITLE_GAP = (r"\s*(?:,|\(|-|–)\s*(?:(?:their|our|his|her|the)\s+)?|"
                     r"\s+(?:from|at|@)\s+(?:[A-Z][\w&'.-]*\s+){0,3}[A-Z][\w&'.-]*\s*\(\s*|"
                     r"\s+(?:is|was)\s+(?:(?:their|our|the)\s+)?")

# user groups: "Agents (15) are the users", "the leasing agents would use it", "his 10 reps"
EN_GROUP = re.compile(
    r"(?:^|[.,;:(]\s*|\s[-–]\s*|\band\s+)(?P<grp>(?!(?:he|she|they|we|i|you)(?:['’]d|\s+will|\s+would)\b)[\w~][\w~ '’-]*?)\s*,?\s*(?:\([^)]*\)\s*)?"
    r"(?:who['’]d|who will|will|would|are|['’]d)\s+(?:(?:be\s+)?(?:the\s+)?(?:main\s+|day-to-day\s+|end\s+|daily\s+)?"
    r"(?:users?\b|use it)|be the ones? using it)"
    r"|use it (?:\w+self )?(?:along )?with (?:his|her|their) (?:\d+ )?(?P<grp2>(?:\w+ )?\w+s)\b"
    r"|(?:his|her|their) (?:\d+ )?(?P<grp3>(?:\w+ )?\w+s) on it\b"
    r"|roll(?:ing)? it out to (?:his|her|their|all)? ?(?:\d+ )?(?P<grp4>(?:\w+ )?\w+s)\b"
    r"|(?P<grp5>(?:\w+ )?\w+s) would be in it\b", re.I)
_EN_GROUP_DROP = re.compile(r"^.*\b(?:for|with)\s+(?=(?:the|their|her|his|our)\s)|^\w+['’]s\s+|"
                            r"^(?:(?:and|the|their|her|his|our|all|about|~|\d+\w*|team of|of)\s*)+|"
                            r"\s+(?:at each \w+|of them|on the floor)$", re.I)
_PRONOUNS = frozenset({"she", "he", "they", "i", "we", "you", "it"})

# -- Chinese titles, names, groups
ZH_TITLE_HEAD = re.compile(
    r"(?:董事总经理|助理|秘书|副总经理|总经理|副总裁|总裁|副总(?![监裁经])|总监|经理|主管|负责人|主任|科长|处长|院长|校长|厂长|店长|组长|"
    r"部长|行长|护士长|店东|老板娘|老板|合伙人|合规官|顾问|律师|专员|董事长|董事会|理事会|创始人|CEO|CFO|COO|CTO|CIO|CRO|CMO|SVP|VP)"
    r"(?!会上|会议|大会)")  # "合伙人会上": a meeting, not a person
_ZH_STOP = set("了的是和跟与见找要由在给问约位个名说把向对让请得及或而也都还就并这那其但则为从被将以到各归")
ZH_STOP_CHARS = frozenset(_ZH_STOP)
_ZH_DROP = re.compile(r"^(?:最后|最终|还是|主要|其实|然后|但是|不过|而且|另外|我们|他们|你们|这边|那边|需要)+")
_ZH_COMPANY = re.compile(r"^.*?(?:集团|公司|科技|银行|医院|保险|物流|货运|快递|电信|宽带|传媒|软件|地产|建筑|医疗|"
                         r"教育|制药|能源|金融|酒店|旅行|物业|数据|互联网|工程|仓储|家电|电器|家居|连锁|超市|租车|航空)(?=.)"
                         r"(?!中心|部|处|科)")
# where a title's department words cannot reach back past: "业务那边呼叫中心经理" is 呼叫中心经理
_ZH_BOUNDARY = re.compile(r".*(?:那边|这边|方面|那里|这里)")
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
            "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
            "庞樊兰殷施陶洪翟安颜倪严牛温季俞章鲁葛伍韦申尤毕聂焦向柳邢路岳齐梅莫庄辛管祝左涂谷祁时舒耿凌费纪盛童"
            "项曲成游裴席卫屈鲍覃霍翁景甘柏包单宁房柯卓计冉柴詹司欧喻晏蔺鄢郦阙佘芦戈仇逄贝茅穆邬臧尚"
            "栾冷訾阚简饶巫查荆蒲鞠桂佟车邝麦岑符苗蓝骆")
_COMPOUND = ("欧阳", "司马", "上官", "诸葛")
# "罗总监", "范厂长": a surname and a title head is a person, when nothing else runs into the surname
TITLE_SUFFIX = r"总监|厂长|主管|部长|行长|组长|店长"
_SUFFIX = re.compile(rf"总(?![监裁经部])|经理|主任|科长|处长|医生|院长|老师|工(?![作程具厂资])|{TITLE_SUFFIX}")
# characters that start the word after a name, not a given name ("张伟开了个会": 开)
_ZH_AFTER_NAME = set("说是很对也会要拍定签管挺觉担负一和跟在开直还自手那已愿有反偏提同态帮可都准这主的了们聊汇流去以"
                     "通就想不没太最喜认支推等用做批看答问让吃见找过谈亲讲，。、；：！？（）() ")
# words that start with a surname and are no name ("跟老板申请": 申请)
_ZH_NOT_NAME = frozenset("申请 安排 方案 成本 高层 高管 常务 任何 全部 关于 时间 于是 向来 单位 程序 周期 江湖 金额 "
                         "项目 曲线 计划 房子 包括 宁可 万一 文件 史上 任务 齐全 路上".split())
ZH_HONORIFIC = re.compile(rf"(?:{'|'.join(_COMPOUND)}|[{SURNAMES}])(?:{_SUFFIX.pattern})|老[{SURNAMES}]")
ZH_DEPT_TITLE = re.compile(r"[^\s，。、；：,的了是和跟在]{1,4}?(?:部|处|科|中心)(?=的)")
ZH_NAME_AFTER_CUE = re.compile(r"采购(?:部|那边)?(?:的|是)|采购[（(]|IT的|财务的|对接人是|[，,]?(?:名)?叫(?![停好])")
# title then name ("财务总监李总", "客户体验部总监，叫孟凡"); name then title ("陈总（海峰集团财务总监）")
ZH_TITLE_NAME_GAP = r"的?|[，,]?(?:名)?叫"
ZH_NAME_TITLE_GAP = r"[（(]?|[（(][^（）()，。]{1,10}?(?:集团|公司|科技|银行|医院|保险|物流)"
LATIN_NAME = re.compile(r"[A-Z][a-z]+(?: [A-Z][a-z]+)?")
ZH_GROUP = re.compile(
    r"(?P<grp>[\u4e00-\u9fffA-Za-z0-9]{1,14}?)(?:会在\S{0,6}上用|(?<!不)会用|是(?:最终|日常|主要)?使用(?:人|者)|"
    r"每天都会用|天天用|(?:以后|将来)?(?:都|也)?要用|都用起来|都开(?:通)?账号)"
    r"|(?P<grp2>[\u4e00-\u9fff]{2,5}?)(?:一共|大概|共)?\d+个人?[，,](?:以后)?(?:全|都|全都)?(?:天天用|要用|会用)"
    r"|带\d*个?(?P<grp3>[\u4e00-\u9fff]{1,4}?)用")
_ZH_GROUP_DROP = re.compile(r"^.*(?:\d+[个名位]|[个名位]|手下|团队|他们|她|他|的)(?:左右|来)?|^(?:左右|来|以后)")


def zh_title_start(sentence: str, head: int) -> int:
    """Where the title whose head word starts at ``head`` begins: the department words before it."""
    start, latin = head, False
    head_is_cjk = bool(CJK.match(sentence[head]))
    while start > 0 and head - start < 6:
        ch = sentence[start - 1]
        if ch in _ZH_STOP or not (CJK.match(ch) or ch.isascii() and ch.isalpha()):
            break
        if CJK.match(ch) and latin and head_is_cjk:
            break  # "恒达科技IT经理": the title is "IT经理"
        latin = latin or ch.isascii()
        start -= 1
    boundary = _ZH_BOUNDARY.match(sentence[max(start - 1, 0):head])
    if boundary:
        start = max(start - 1, 0) + boundary.end()
    prefix = sentence[start:head]
    company = _ZH_COMPANY.match(prefix)
    if company and not prefix.startswith(("集团", "公司")):
        start += company.end()
    dropped = _ZH_DROP.match(sentence[start:head])
    return start + (dropped.end() if dropped else 0)


def zh_name_at(sentence: str, position: int) -> str | None:
    """The person's name starting at ``position`` ("陈静", "何建国", "李总", "老韩"), if one does."""
    text = sentence[position:position + 4]
    honorific = ZH_HONORIFIC.match(text)
    if honorific:
        return honorific.group()
    surname = next((c for c in _COMPOUND if text.startswith(c)), text[:1] if text[:1] and text[0] in SURNAMES else "")
    if not surname:
        return None
    given = ""
    for ch in text[len(surname):len(surname) + 2]:
        if not CJK.match(ch) or ch in _ZH_AFTER_NAME:
            break
        given += ch
    if not given or (surname + given)[:2] in _ZH_NOT_NAME:
        return None
    return surname + given


def strip_group(text: str) -> str | None:
    """The title of a user group from the words before its verb ("Their team of ~30 leasing agents")."""
    if CJK.search(text):
        text = _ZH_GROUP_DROP.sub("", text)
        if text.startswith("各"):
            text = text[2:] if len(text) >= 6 else text[1:]
        return text if len(text) >= 2 else None
    text = _EN_GROUP_DROP.sub("", _EN_GROUP_DROP.sub("", text.strip())).strip(" ~-")
    last = text.split(" ")[-1].lower() if text else ""
    if not text or last in _PRONOUNS or len(text.split()) > 3 or not re.search(r"(?:s|staff|team)$", last):
        return None
    return text


# -- cues: what a note says about a person, after the mention (up to the next one) or right before it
EN_CUES = {
    "decision_maker": r"\bdecides?\b|decision[- ]maker|makes? the (?:final )?(?:call|decision)|(?:final|last) "
                      r"(?:say|word)|decide alone|decision is (?:his|hers)|rubber[- ]stamp|green[- ]?light|gives? the go-ahead|final sign-?off|"
                      r"runs the show",
    "signs": r"\bsigns? off|the one who signs|\b(?:will|can) sign\b|signs (?:the|every|each|all) contracts?|"
             r"(?:has|have) to approve(?! (?:the |any )?(?:spend|budget|money|purchase))",
    "economic_buyer": r"budget (?:holder|owner)|owns the budget|holds the budget|budget is (?:his|hers)|"
                      r"controls (?:the |all |his |her |their )?(?:\w+ )?"
                      r"(?:budget|spend)|economic buyer|budget (?:sits|is) with|signs? anything (?:over|above)|"
                      r"approves? anything|(?:over|above) \$?\d+k(?![^.]*\bgoes to\b)|froze budgets|justify the spend|purse strings|"
                      r"approve (?:the |any )?(?:spend|budget|money|purchase)|earmark",
    "procurement": r"from procurement|\(procurement\)|vendor process|runs the (?:rfp|tender)|"
                   r"(?:is )?running (?:an|the|a) (?:rfp|tender)|handles? (?:all )?(?:of )?(?:the )?(?:vendor |supplier )?"
                   r"(?:paperwork|contracts?|contracting|purchasing|onboarding)",
    "blocker": r"(?<!up )\bagainst\b|\bblocking\b|holding it up|pushed back hard|won['’]t support|waste of money|"
               r"not a fan|\bprefers\b|sitting on (?:the |our )?(?:budget|deal|it)",
    "champion": r"\bchampion|\bchamp\b|\bsponsor\b|supporter|supportive|supports us|\bis sold\b|\bfan\b|"
                r"pushing (?:hard )?for us|push (?:it|for us) internally|\blikes\b|\blove[sd]?\b|\bkeen\b|['’]s sold\b|"
                r"walk (?:him|her|them|(?:his|her|their) \w+) through it|(?:pitch|pitching|sell|selling) it (?:to|up)|(?<!not )\binterested\b|"
                r"really wants it|wants us\b|advocate|believer|lining up a pilot|will get us|reopen|"
                r"wants (?:this|it|a pilot)|happy w(?:ith|/) our|very interested|great convo|on our side|excited|"
                r"enthusiastic|on board",
    "influencer": r"has a (?:lot of )?say|strong voice|\bveto\b|will evaluate|\bevaluat|has input|weighs? in|"
                  r"\badvis",
    "user": r"(?:will|would|['’]d) (?:be the )?(?:main |day-to-day )?users?\b|\buse it\b|main user|\busing it\b|"
            r"(?:be )?using (?:this|it) (?:daily|every day)",
}
EN_BEFORE = {
    "decision_maker": r"(?:decision (?:is|sits|rests|lies) with|decision maker is|final approval sits with|approval from|"
                      r"(?:decides?|makes the decision) (?:together )?w(?:ith|/))(?: (?:the|his|her|their))?\s*$",
    "economic_buyer": r"(?:budget (?:sits|is) with|budget belongs to|budget owner is|sign-off from|goes to)(?: the)?\s*$|"
                      r"(?:doesn['’]t|does not|don['’]t) (?:own|hold|control) the budget\W*(?:though|but)?\W*(?:the\s*)?$",
    "procurement": r"(?:procurement|purchasing)(?: team| guy| person| lead)?\s*(?:\(|is handled by|is run by|,)?\s*$",
    "champion": r"(?:our )?(?:champion|sponsor)[,:]?\s*$",
}
ZH_CUES = {
    "decision_maker": r"拍板|说了算|做决定|决定|定夺|^[^，。,]{0,4}(?<![坚搞确稳肯否约规制])定|决策人|他定|她定|一起定|拿主意",
    "signs": r"签字|签合同|就签|审批|批准|^批|批开支",
    "economic_buyer": r"管\S{0,4}预算|把关|预算在[她他]?手里|管\S{0,4}开支|预算(?:冻结|没了)|批不下来|钱也?在",
    "procurement": r"负责供应商|采购流程|负责招标",
    "blocker": r"反对|卡我们|压着|不太支持|不支持|浪费钱|唱反调|偏向|卡在|冷淡|不配合",
    "champion": r"支持者|支持我们|很支持|挺支持|帮我们推|内部推|愿意\S{0,4}推|内线|喜欢|很积极|满意|想要|被说服|兴趣很大|"
                r"感兴趣|认可|认同|铁粉|兴奋|发起人|力挺|想先\S{0,8}试点|想上|很想|积极|着急|坚定|来搞定|会帮我们|帮我们说话|看好",
    "influencer": r"评估|话语权|有分量|分量很重|否决权",
    "user": r"使用人|使用者|会用|天天用|每天都会用|一起用|负责落地|带\S{0,6}用|会在\S{0,6}用",
}
ZH_BEFORE = {
    "blocker": r"卡在\s*$",
    "decision_maker": r"(?:决定权在|决策人是|审批在|(?:做决定|拍板|说了算|定)的(?:人)?是)\s*$",
    "economic_buyer": r"(?:预算在|预算归|钱也?在|(?:以上|超过\S{0,6})要报?)\s*$",
    "procurement": r"采购(?:部|那边)?(?:的|是)?[（(]?\s*$",
}
NEGATED = (r"(?:can['’]?t|cannot|can not|won['’]t|doesn['’]t|isn['’]t|not)\s+(?:\w+\s+){0,2}?(?:sign|approve|decide)\w*|"
           r"not (?:his|her) call|做不了主|签不了|批不了|定不了|不是[他她]定|说了不算|不会用")
JOINED = r"\s*(?:跟|和|与)\s*"
EN_SUBJECTLESS = (r"\s*(?:she|he)\b|\s*(?:very|really)\s|"  # a note's verb-first sentence ("Loved the demo") is about
                  r"\s*(?:loved?|liked?|likes|wants?|keen|excited)\b")  # the person named last
ZH_SUBJECTLESS = r"\s*(?:她|他)(?![们])"
EN_PRONOUN = r"\b(?:she|he|his|hers)\b"
ZH_PRONOUN = r"(?:她|他)(?![们])"

TITLE_DEFAULTS = {
    "decision_maker": r"\b(?:ceo|owner|founder|president|gm|md|general manager|managing (?:director|partner)|"
                      r"superintendent|chairman)\b|(?:老板(?!娘)|(?<!区)总经理|董事长|(?<!副)总裁|院长|校长|店东|创始人|CEO)(?=$|兼)",
    "economic_buyer": r"(?<![a-z])cfo\b|financ|controller|treasurer|财务|\bboard\b|董事会|理事会",
    "procurement": r"procure|purchas|\bbuyer\b|sourcing|vendor management|category (?:manager|lead)|采购",
}
FINANCE_TITLE = TITLE_DEFAULTS["economic_buyer"]
