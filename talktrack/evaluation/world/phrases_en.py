"""English lexicon of the generated world: names, phrasings per dialogue act, note styles.

A leaf module of constants plus a few formatting helpers. ``phrases_zh`` defines the
same names, so the generator picks a lexicon by language and never branches on it.
Every phrasing list has at least six entries (checked by the tests) so that no act
can be recognised by one fixed string; slots in ``{braces}`` are filled per call and
``[a|b]`` choices resolved (``compose.py``). Objections and moves also come in families
of phrasings (``OBJECTION_VARIANTS``, ``MOVE_VARIANTS``), and turns are dressed with the
``OPENERS``, ``PREAMBLES``, ``AFTERWORDS`` and ``TAILS`` at the end of the module.
"""

from __future__ import annotations

from datetime import date

import numpy as np

LANGUAGE = "en"
SPEECH_RATE = 2.6  # words per second
JOINER = " "

FIRST_NAMES = (
    "Dana", "Maya", "Priya", "Olivia", "Grace", "Sofia", "Hannah", "Leah", "Nora", "Elena", "Chloe", "Ava",
    "Marcus", "Ethan", "Daniel", "Omar", "Lucas", "Ryan", "Noah", "Caleb", "Victor", "Jonah", "Sam", "Theo",
)
LAST_NAMES = (
    "Park", "Nguyen", "Patel", "Garcia", "Reyes", "Okafor", "Schmidt", "Rossi", "Murphy", "Cohen", "Walsh",
    "Bennett", "Foster", "Hughes", "Kim", "Larsen", "Mendes", "Novak", "Ortiz", "Price", "Shaw", "Turner",
)
COMPANY_STEMS = (
    "Northfield", "Bluewater", "Granite", "Silverline", "Redwood", "Harbor", "Summit", "Ironbridge", "Clearview",
    "Maple", "Westbrook", "Pinecrest", "Brightstone", "Lakeshore", "Oakridge", "Crescent", "Falcon", "Evergreen",
    "Copperleaf", "Riverton", "Stonegate", "Highland", "Kestrel", "Ashford",
)
COMPANY_SUFFIXES = {
    "manufacturing": ("Manufacturing", "Industries", "Components", "Fabrication"),
    "logistics": ("Logistics", "Freight", "Distribution", "Shipping"),
    "retail": ("Retail Group", "Stores", "Outfitters", "Markets"),
    "healthcare": ("Health", "Medical Group", "Clinics", "Care Partners"),
    "financial_services": ("Financial", "Capital", "Insurance", "Credit Union"),
    "software": ("Software", "Labs", "Digital", "Systems"),
    "education": ("Learning", "Academy", "Education Group", "Training"),
    "construction": ("Builders", "Construction", "Contracting", "Engineering"),
}
REGIONS = ("North America", "Europe", "APAC", "Latin America")
TEAM_NAMES = ("Atlas", "Beacon", "Comet", "Delta", "Ember", "Frontier", "Glacier", "Horizon")
TEAM_FORMAT = "Team {name}"
EMAIL_DOMAIN = "northwind-demo.example"
VENDOR = "Northwind Systems"
PRODUCTS = ("Order Hub", "Insight Analytics", "Field Service Suite", "Smart Inventory")
COMPETITORS = ("Vexa", "Orbiton", "CloudMate", "Stackline", "Quorra", "Nimbly")
CITIES = ("Chicago", "Austin", "Denver", "Toronto", "London", "Singapore", "Seattle", "Boston")
CONTACT_TITLES = (
    "Operations Director", "Head of Finance", "IT Manager", "VP of Sales", "Procurement Lead", "COO",
    "Customer Service Manager", "Supply Chain Manager",
)
DECISION_MAKER_TITLES = ("the CFO", "the CEO", "the COO", "the VP of Operations", "the finance director")
DEADLINES = (
    "the end of Q2", "the end of Q3", "the summer", "September", "year end", "the end of March", "the peak season",
    "the next board meeting",
)
CASE_CUSTOMERS = ("Harborline Foods", "Meridian Parts", "Crestview Clinics", "Polaris Freight", "Juniper Retail")

PAIN_ENTITIES = {
    "reconciliation": {"team": ("warehouse", "finance", "operations", "customer service")},
    "onboarding": {"role": ("sales rep", "field technician", "store manager", "support agent")},
}

PAINS = {
    "reconciliation": (
        "Our {team} team spends about {hours} hours a week reconciling orders by hand.",
        "The {team} folks lose {hours} hours every week just matching orders against invoices.",
        "Every single week it's {hours} hours of manual reconciliation for the {team} team.",
    ),
    "order_errors": (
        "Around {pct} percent of our orders go out with some kind of error.",
        "We measured it, and {pct} percent of orders have a mistake somewhere.",
        "Roughly {pct} percent of what we ship has an error on it, and customers notice.",
    ),
    "slow_response": (
        "Customers wait {hours} hours on average for a reply, and we had {complaints} complaints last month.",
        "Our response time is about {hours} hours, which led to {complaints} complaints just last month.",
        "Last month we logged {complaints} complaints, mostly because replies take {hours} hours.",
    ),
    "lost_accounts": (
        "We lost {n} key accounts last quarter, mostly on service.",
        "Last quarter {n} of our bigger accounts walked away.",
        "We've had {n} key customers leave us in the last quarter alone.",
    ),
    "onboarding": (
        "It takes us {days} days to get a new {role} productive.",
        "A new {role} needs about {days} days before they can work on their own.",
        "Onboarding a {role} takes {days} days right now, which is way too long.",
    ),
    "month_end": (
        "Month-end close takes us {days} working days.",
        "Closing the books drags on for {days} working days every month.",
        "Our finance team needs {days} working days for every month-end close.",
    ),
    "spreadsheets": (
        "We have {n} branches, and each one keeps its own spreadsheets.",
        "All {n} branches run on their own spreadsheets, nothing is connected.",
        "Data lives in spreadsheets across our {n} branches, so nobody has the full picture.",
    ),
    "downtime": (
        "We had {hours} hours of system downtime last quarter.",
        "The old system was down for {hours} hours last quarter, which hurt.",
        "Last quarter alone we lost {hours} hours to outages.",
    ),
    "visibility": (
        "We have {n} salespeople, and managers can't see the pipeline at all.",
        "With {n} people in sales, nobody really knows where the deals stand.",
        "Our {n} salespeople all track deals differently, so forecasting is guesswork.",
    ),
    "stockouts": (
        "We ran out of stock {n} times this year on our top products.",
        "Stockouts happened {n} times this year, and each one cost us orders.",
        "This year we hit {n} stockouts on bestsellers.",
    ),
    "audit": (
        "Our last audit flagged {n} issues in how we track records.",
        "The auditors found {n} problems last time, mostly around data.",
        "We got {n} findings in the last audit, and we have to fix them.",
    ),
    "expansion": (
        "We're opening {n} new sites this year and the current setup won't scale.",
        "With {n} new locations planned this year, we need something that grows with us.",
        "We plan {n} new sites this year, and onboarding each one is painful today.",
    ),
}
PAIN_NOTES = {
    "reconciliation": "{hours} hours a week of manual order reconciliation in the {team} team",
    "order_errors": "{pct} percent of orders shipped with errors",
    "slow_response": "{hours}-hour reply times and {complaints} complaints last month",
    "lost_accounts": "{n} key accounts lost last quarter",
    "onboarding": "{days} days to get a new {role} productive",
    "month_end": "month-end close takes {days} working days",
    "spreadsheets": "{n} branches on separate spreadsheets",
    "downtime": "{hours} hours of downtime last quarter",
    "visibility": "no pipeline visibility across {n} salespeople",
    "stockouts": "{n} stockouts this year",
    "audit": "{n} findings in the last audit",
    "expansion": "{n} new sites planned this year",
}

CONCERNS = {
    "price": ("the price", "the budget", "the total cost", "the cost"),
    "competitor": ("the comparison with {competitor}", "what {competitor} offers", "the other vendor"),
    "timing": ("the timing", "the schedule", "the start date"),
    "authority": ("the sign-off", "the approval", "the decision process"),
    "need": ("the fit", "the business case", "the need for it"),
    "trust": ("the risk", "the track record", "data security"),
    "delivery": ("the rollout", "the delivery timeline", "the go-live date"),
}
NEXT_ACTIONS = {
    "discovery_meeting": ("a deeper discovery session", "a working session with your team"),
    "demo": ("a live demo for your team", "a demo on your own data"),
    "proposal_review": ("a walk-through of the proposal", "a proposal review"),
    "decision_meeting": ("a call with {decision_maker}", "a meeting with {decision_maker}"),
    "contract_review": ("a contract review", "going through the final terms"),
}

PHRASES: dict[str, tuple[str, ...]] = {
    "greet.customer_first": (
        "Hello, {contact_first} speaking.",
        "Hi, this is {contact_first}.",
        "{contact_first} here, hello?",
        "Hey, {rep_first}, is that you?",
        "Hi, yes, {contact_first} from {customer}.",
        "Good morning, {contact_first} here.",
    ),
    "greet.rep": (
        "Hi {contact_first}, this is {rep_first} from {vendor}. Thanks for making the time.",
        "Hello {contact_first}, {rep_first} here from {vendor}. Is now still a good time?",
        "Good morning {contact_first}! It's {rep_first} with {vendor}.",
        "Hi {contact_first}, it's {rep_first}. Thanks for jumping on.",
        "Hey {contact_first}, {rep_first} from {vendor}. Great to talk again.",
        "Hi there, {contact_first}. {rep_first} calling from {vendor}, thanks for your time today.",
    ),
    "greet.customer": (
        "Hi {rep_first}, [good to hear from you|nice to hear from you|good to talk again].",
        "Yes, [perfect timing actually|great timing|good timing], [go ahead|I just got out of a meeting].",
        "Hey, sure, I've got [about half an hour|twenty minutes or so|until the top of the hour].",
        "Hi! [Yes|Yeah], let's [do it|get started|dive in].",
        "[Good, good|Doing well]. Thanks for [calling|reaching out|setting this up][, {rep_first}|].",
        "Hello {rep_first}. [Sure|Yes], go ahead.",
        "[Hey|Hi] {rep_first}, [sorry|apologies], I'm [a couple of minutes late|just finishing something up]. [Okay|Alright], I'm here.",
        "[Morning|Afternoon], {rep_first}! [How are you|How's it going]?",
        "{rep_first}, hi. [I've got|I have] {contact2} [here|with me] [too|as well], [hope that's okay|if that's fine].",
    ),
    "rapport.rep": (
        "How was the trip to {city}[?|, by the way?| last week?]",
        "I saw {customer} is hiring again, {open_positions} open roles. [Busy times?|Growing fast?|Things are moving, huh?]",
        "How's the week treating you so far[, {contact_first}|]?",
        "Did you get through the [quarter-end|month-end|holiday] rush okay?",
        "I heard you just moved into the new office[ in {city}|]. How is it?",
        "Before we start, how did the [team offsite|conference|trade show] go?",
        "Is the weather still as bad over [there|in {city}] as last time?",
    ),
    "rapport.customer": (
        "Oh, busy as always, but [good|fine|can't complain].",
        "It was fine, a bit [hectic|rushed|long], thanks for asking.",
        "Honestly, it's been a [crazy|long|wild] [week|month].",
        "Pretty good! We finally got [some new people|two new hires|a new ops lead] on board.",
        "Not bad at all. [Can't complain|Busy, but good|Could be worse].",
        "Long, but we're getting there[, slowly|].",
        "[Oh, |]{city} was [great|fine|exhausting], [thanks|thanks for asking]. [Lots of meetings|Too many flights], though.",
        "[Ha|Oh], [don't ask|where do I start]. [But|Anyway], [good|fine], thanks.",
        "[Busy|Hectic], [we're|we are] [onboarding|hiring] [a few|{open_positions}] people [right now|this month].",
    ),
    "agenda.qualification": (
        "Today I'd mainly like to understand what's going on at {customer} and see if we're a fit.",
        "My plan for today is simple: learn about your setup and see whether it makes sense to go further.",
        "I'd like to use this call to understand your situation first, no pitch, I promise.",
        "So the goal today is to figure out whether {product} could even help you.",
        "Could we spend a few minutes on how things work today, and then decide on next steps?",
        "I mostly want to listen today and ask a few questions, if that's okay.",
    ),
    "agenda.needs_diagnosis": (
        "Today I'd like to go deeper into the problems you mentioned last time.",
        "Let's dig into the details of your process so we can size the problem properly.",
        "The plan for today is to map out where the time actually goes.",
        "I'd love to understand the workflow end to end today, step by step.",
        "I want to make sure we really understand the pain before we propose anything.",
        "Today is about the details, the numbers, the people involved.",
    ),
    "agenda.solution_presentation": (
        "Today I'd like to walk you through how {product} would work for {customer}.",
        "I've put together a proposal based on what you told us, and I'd like to go through it.",
        "Let me show you the solution we designed around your numbers.",
        "I want to present the approach and get your honest reactions.",
        "We built a tailored setup for you, so today is the walk-through.",
        "The goal today is to show you the plan and check it matches your priorities.",
    ),
    "agenda.negotiation": (
        "Today I'd like to go through the commercial terms and hopefully agree on the way forward.",
        "Let's go over the quote and the contract details today.",
        "I'd like to close the open points on pricing and terms today.",
        "So, the plan is to walk through the numbers and see where we stand.",
        "Today is about the final terms, so let's make sure everything works for you.",
        "I want to get the commercial side sorted out today, if we can.",
    ),
    "q.open": (
        "How do you handle that [today|right now|at the moment]?",
        "Can you walk me through what happens after an order comes in[, step by step|]?",
        "What does a typical [week|day] look like for your [team|people]?",
        "What would you change first if you could[, tomorrow|]?",
        "How did you end up with the current setup?",
        "What's the impact on your [customers|clients|end customers]?",
        "Tell me more about how the [team|teams] [works|work] together on this.",
        "[Where|At which point] does it [usually|typically] [break down|go wrong]?",
    ),
    "q.closed": (
        "Is that done [manually|by hand]?",
        "Do you use any [tool|software] for that right now?",
        "Is that the same in every [branch|site|location]?",
        "Does that happen every [month|week]?",
        "Is your IT team involved in this?",
        "Are you the one who owns that process?",
        "[Has that gotten|Did that get] worse [this year|lately|since you grew]?",
    ),
    "a.open": (
        "Well, it's a mix of email, spreadsheets and a lot of phone calls.",
        "Honestly it depends on who's on shift, there's no real standard.",
        "We grew fast and the process just never caught up.",
        "It works, but only because a few people know all the tricks.",
        "Let me think. It's mostly manual, to be honest.",
        "It's messy. Everyone has their own way of doing it.",
        "About {users} people touch this every day, and it's all by hand.",
        "[Mostly|Largely] [{contact2}|one person] [keeps it together|holds it all together], [which is a risk|and that worries me].",
    ),
    "a.closed": (
        "Yes, [mostly|for the most part|pretty much].",
        "No, not [really|at all|these days].",
        "Yeah, [pretty much every time|most of the time|almost always].",
        "Not yet, no[, but we've talked about it|].",
        "Yes, that's [right|correct|true].",
        "Sort of, it [depends|varies][ by branch| by team| on the week|].",
        "[Hmm, |]I [think so|believe so], [yes|yeah], but I'd have to [check|double-check] with {contact2}.",
    ),
    "pain.lead": (
        "The big issue for us is this.",
        "Honestly, here's what hurts.",
        "I'll be frank with you.",
        "So here's the thing.",
        "The main problem is pretty simple.",
        "What keeps me up at night is this.",
    ),
    "paraphrase.rep": (
        "So if I heard you right, it's {pain_note}. Is that fair?",
        "Let me make sure I got it: {pain_note}, correct?",
        "Okay, so {pain_note}. That's significant.",
        "Just to play it back, {pain_note}. Did I get that right?",
        "Got it. {pain_note}. That needs fixing.",
        "So the core of it is {pain_note}. Right?",
    ),
    "paraphrase.customer": (
        "Exactly, [yes|yep|that's it].",
        "Yes, that's [it|right|the one].",
        "Right, [that's the one|that's exactly it|you got it].",
        "Yeah, you [got it|nailed it|have it].",
        "Correct. And it's getting [worse|worse every month|worse as we grow].",
        "That's right, pretty much[, yeah|].",
        "[Yep|Yes], and [honestly|to be fair] that's [probably|maybe] [an underestimate|on the low side].",
        "[Yeah|Yes], [that's about right|that sums it up|that's a fair summary], {rep_first}.",
        "[Mostly|More or less], [yes|yeah]. {contact2} [would|might] [put it|say it] [even stronger|differently], [but|though] [yes|yeah].",
    ),
    "value.rep": (
        "With {product}, the matching happens automatically, so your team stops doing it by hand.",
        "What we usually see is that the manual work drops by half within the first quarter.",
        "The point of {product} is one view of every order, for every branch.",
        "You'd get alerts before things go wrong, not after the customer calls.",
        "We set it up around your process, so people don't have to change how they work.",
        "For a team your size, the payback is usually under a year.",
    ),
    "value.customer": (
        "Okay, that sounds [useful|helpful|promising].",
        "Interesting. How long does that take to [set up|get going|roll out]?",
        "Hm, that would help, if it [really|actually] works.",
        "That's the part I care about, [yes|honestly|for sure].",
        "Sounds good on paper[, anyway|, at least|].",
        "Okay. I like the [idea|sound of that|approach].",
        "[Huh|Oh], [okay|right]. [{contact2} would love that|My team would like that|That'd save us a lot of headaches].",
    ),
    "obj.price": (
        "Honestly, {amount} is more than we planned. Our budget is {budget}.",
        "The price is a problem. We only have {budget} set aside for this.",
        "That's quite expensive for us, to be honest.",
        "I'm not sure we can justify that cost this year.",
        "Our budget for this is {budget}, and you're well above it.",
        "Finance will push back on {amount}, I can tell you that now.",
    ),
    "obj.competitor": (
        "We're also talking to {competitor}, and they're cheaper.",
        "{competitor} showed us something similar last week.",
        "Why should we pick you over {competitor}?",
        "Honestly, {competitor} already offered us a pilot.",
        "A lot of people in our industry use {competitor}.",
        "We use {competitor} for part of this already, so why switch?",
    ),
    "obj.timing": (
        "The timing is tough. We're in the middle of a reorganisation.",
        "I don't think we can start anything before {deadline}.",
        "Honestly, it's not a priority this quarter.",
        "Can we come back to this next year?",
        "We have too much going on right now.",
        "Maybe later. Right now the team is stretched.",
    ),
    "obj.authority": (
        "I can't decide this alone, {decision_maker} has to sign off.",
        "This will need approval from {decision_maker}.",
        "Procurement will want to run their own process.",
        "I like it, but I'm not the one who decides.",
        "There are {committee} people on the committee for this.",
        "My boss will want to see a business case first.",
    ),
    "obj.need": (
        "I'm not sure we really need this right now.",
        "Our current setup works well enough, honestly.",
        "I don't see how this fits our process.",
        "We could probably solve this with some spreadsheets.",
        "It sounds nice, but is it a must-have for us?",
        "I'm not convinced it's worth the change.",
    ),
    "obj.trust": (
        "We've been burned before by a vendor like you.",
        "How do I know this will actually work for us?",
        "You're a smaller company, what if you're not around in two years?",
        "Our data is sensitive. I'm worried about security.",
        "I'd need to see proof that it works at our scale.",
        "The last project like this failed, so people are nervous.",
    ),
    "obj.delivery": (
        "How long does the rollout take? We need it live by {deadline}.",
        "I'm worried about the implementation. We can't have downtime.",
        "Can you actually deliver before {deadline}?",
        "Our IT team has no capacity for a long rollout.",
        "Last time the implementation took twice as long as promised.",
        "Who does the migration? We don't have people for that.",
    ),
    "obj.lead_new": (
        "And there's another thing.",
        "Okay, but there's something else.",
        "Fine. But also,",
        "Sure, but that's not my only worry.",
        "Alright. Another concern, though.",
        "Let me raise one more point.",
    ),
    "move.acknowledge": (
        "I hear you, {concern} matters.",
        "That's a fair point, and I appreciate you being direct.",
        "I understand, a lot of our customers felt the same at first.",
        "Totally makes sense that you'd worry about {concern}.",
        "Thanks for saying that openly.",
        "Yeah, that's a real concern.",
    ),
    "move.clarify": (
        "Can I ask what exactly worries you about {concern}?",
        "When you say that, do you mean {concern} overall, or something specific?",
        "Help me understand, is it {concern} itself, or something behind it?",
        "What would need to be true for {concern} not to be a problem?",
        "Just so I understand, what's driving that?",
        "Is that your view, or something you're hearing from others?",
    ),
    "move.confirm_timeline": (
        "When do you need this in place, is it still {deadline}?",
        "Let me check the timeline first: are you planning to go live by {deadline}?",
        "What's your target date for having this running?",
        "Is {deadline} still the date you're working towards?",
        "When would the purchase actually happen on your side?",
        "Before we talk numbers, when are you planning to buy?",
    ),
    "move.reframe_value": (
        "If we take {pain_note} off the table, the cost looks very different.",
        "Think of it against {pain_note}, that's what this really costs you today.",
        "It's less about the price and more about what the current situation costs you.",
        "The real comparison is with {pain_note}.",
        "Most customers earn it back within the first year.",
        "What is fixing {pain_note} worth to {customer}?",
    ),
    "move.cite_case": (
        "{case_customer} had the same concern, and they cut that time by {case_pct} percent.",
        "We did this for {case_customer}, a company very much like yours.",
        "One of our customers, {case_customer}, went live in a few weeks and saw a {case_pct} percent gain.",
        "I can connect you with {case_customer}, they had the exact same question.",
        "At {case_customer} the result was {case_pct} percent less manual work.",
        "Let me tell you what happened at {case_customer}.",
    ),
    "move.offer_installments": (
        "We could split it into {installments} payments, so it fits your budget this year.",
        "What if we spread the cost over {installments} quarterly installments?",
        "We can do installments, {installments} payments, no extra fee.",
        "Paying in {installments} parts would keep this year's spend within {budget}.",
        "An installment plan is possible, {installments} payments over the year.",
        "We don't need it all up front, {installments} payments works for us.",
    ),
    "move.offer_discount": (
        "I can offer {discount} percent off if we sign this month.",
        "Let me see, I could go down {discount} percent.",
        "We could do a {discount} percent discount for a two-year term.",
        "If it helps, I'll take {discount} percent off.",
        "I have some room, say {discount} percent.",
        "I can ask for a {discount} percent discount from my manager.",
    ),
    "move.compare_competitor": (
        "Compared with {competitor}, we include the integration work in the price.",
        "The big difference from {competitor} is that we're live in weeks, not months.",
        "{competitor} is a good product, but it doesn't handle multiple branches the way we do.",
        "Side by side with {competitor}, our total cost over three years is lower.",
        "Where we differ from {competitor} is local support, same day.",
        "I can send you a comparison with {competitor}, line by line.",
    ),
    "move.map_decision_chain": (
        "Who else needs to be involved, is it {decision_maker}?",
        "Can you walk me through how the decision gets made?",
        "Besides you, who signs off on this?",
        "What does your approval process look like, step by step?",
        "Would it help if I prepared something for {decision_maker}?",
        "Who could block this, if anyone?",
    ),
    "move.offer_pilot": (
        "How about a {pilot_weeks}-week pilot with one team first?",
        "We could start small, a pilot for {pilot_weeks} weeks.",
        "Let's prove it first: a {pilot_weeks}-week pilot, limited scope.",
        "A pilot would take the risk out, say {pilot_weeks} weeks.",
        "Try it with one branch for {pilot_weeks} weeks and then decide.",
        "We do paid pilots of {pilot_weeks} weeks, credited against the contract.",
    ),
    "move.provide_guarantee": (
        "We put a {guarantee_days}-day guarantee in the contract, if it doesn't work you get your money back.",
        "There's a service-level guarantee, with penalties on our side.",
        "If we miss the go-live date, the first {guarantee_days} days are free.",
        "We guarantee the timeline in writing.",
        "You can exit within {guarantee_days} days, no questions asked.",
        "Our contract includes an uptime guarantee of ninety-nine point nine percent.",
    ),
    "move.confirm_delivery_plan": (
        "The plan is {weeks} weeks: setup, data migration, then training.",
        "Let me walk you through the rollout, it's {weeks} weeks end to end.",
        "We'd have a dedicated project manager, and go-live in {weeks} weeks.",
        "Our team does the migration, your IT only needs a few hours a week.",
        "Here's the delivery plan: two weeks setup, then phased go-live, {weeks} weeks in total.",
        "We can commit to a go-live {weeks} weeks after signing.",
    ),
    "move.propose_next_step": (
        "How about we set up {next_action} on {date}?",
        "Could we book {next_action} for {date}?",
        "Let's put {next_action} in the calendar, {date} maybe?",
        "Would {date} work for {next_action}?",
        "I suggest {next_action} next, say {date}.",
        "Why don't we schedule {next_action}, {date}?",
    ),
    "react.concede": (
        "Okay, that [actually|really] makes sense.",
        "Alright, that could [work|work for us].",
        "Fair enough, I can live with that[ for now|].",
        "Hm, okay. That [helps|does help|helps a bit].",
        "Okay, I didn't know that. [Good|That's good to hear|That changes things].",
        "That's reasonable, [yes|yeah|I think].",
    ),
    "react.push_back": (
        "I'm still not [sure|convinced] about that, honestly.",
        "I'm not [fully|completely|quite] convinced yet.",
        "Hm. I'll have to think about that[ a bit more|].",
        "That doesn't really solve my problem[, though|, I'm afraid|].",
        "Maybe, but I'm still [worried|a bit worried|not comfortable].",
        "I hear you, but I'm not sure[ it changes much|].",
    ),
    "next.rep": (
        "So as a next step, let's do {next_action} on {date}. Does that work?",
        "I'll send a summary today, and then {next_action} on {date}?",
        "Can we lock in {next_action} for {date}?",
        "Let me propose {next_action}, {date}, and I'll send the invite.",
        "Next step from my side: {next_action} on {date}.",
        "How does {date} look for {next_action}?",
    ),
    "next.customer": (
        "{date} works for me.",
        "Sure, send me the invite[, and copy {contact2}|].",
        "Yes, let's do that.",
        "That should be fine, I'll check with the team[ and confirm| by tomorrow|].",
        "Okay, {date} it is.",
        "Sounds good, put it in[ the calendar|].",
        "[Hmm|Let me look], {date}. [Yeah|Yes], [I can move something|that works], [go ahead|book it].",
    ),
    "bye.rep": (
        "Great, thanks {contact_first}, [talk soon|speak soon|talk on {date}].",
        "Thanks a lot for your time today[, {contact_first}|].",
        "Perfect. Have a [good rest of the day|great week|good one].",
        "Thanks, {contact_first}. I'll follow up by email[ today| tonight| this afternoon|].",
        "Appreciate it[, {contact_first}|]. [Speak soon|Talk soon|Bye for now].",
        "Thank you, bye for now.",
        "[Okay|Alright], I'll send [the summary|my notes] [over|across] [today|shortly]. [Thanks again|Cheers], {contact_first}.",
    ),
    "bye.customer": (
        "Thanks, bye.",
        "Talk [soon|on {date}|next week], bye.",
        "Thank you, you too.",
        "Okay, bye bye.",
        "Great, thanks {rep_first}.",
        "Cheers, talk later.",
        "[Thanks|Thank you], {rep_first}, [have a good one|take care|enjoy the rest of your day].",
        "[Alright|Okay], [speak soon|talk soon], {rep_first}.",
        "[Thanks|Thank you] for [walking me through it|the time|this], {rep_first}. [Bye|Bye now].",
        "[Will do|Sure thing]. [Speak|Talk] [on {date}|soon|next week].",
        "[Great call|Good chat], [thanks|cheers]. I'll [loop in|update] {contact2}.",
    ),
    "backchannel.customer": (
        "Mm-hmm.",
        "Right.",
        "Okay.",
        "Yeah.",
        "I see.",
        "Sure.",
        "[Uh-huh|Mm], [yeah|okay].",
        "Right, right.",
    ),
    "backchannel.rep": (
        "Mm-hmm.",
        "Right.",
        "Got it.",
        "Okay.",
        "I see.",
        "Yeah.",
        "[Uh-huh|Mm], [yeah|okay].",
        "Sure, sure.",
    ),
}

KEY_QUESTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "need_trigger": {
        "open": ("What made you start looking at this now?", "What triggered the search?",
                 "Why is this on the table this year?", "What [changed|happened] [that made|to make] this [a priority|urgent] [now|this year]?"),
        "closed": ("Was there a specific incident?", "Did something change recently?",
                   "Is this coming from management?", "Was [it|this] [something|one thing] [in particular|specific] that [set it off|kicked this off]?"),
        "answer": ("It came to a head recently.", "Well, something happened.", "It's been building up for a while.",
                   "Management finally noticed.", "Honestly, we had a bad month.", "A few things, really."),
    },
    "decision_maker": {
        "open": ("Who will make the final decision on this?", "Who else is involved in choosing?",
                 "How does a decision like this get made at {customer}?", "[At the end of the day|In the end], who [signs|gives the final yes] on [something like this|this]?"),
        "closed": ("Are you the final decision maker?", "Does {decision_maker} need to approve this?",
                   "Is anyone else signing off?", "[Will|Would] [it|this] [land|end up] on {decision_maker}'s desk [in the end|eventually]?"),
        "answer": ("In the end it's {decision_maker}.", "{decision_maker} signs, but I make the recommendation.",
                   "It goes to {decision_maker}.", "I decide with {decision_maker}.",
                   "{decision_maker} has the final word.", "Me, and then {decision_maker} approves."),
    },
    "budget": {
        "open": ("What budget have you set aside for this?", "How are you thinking about budget?",
                 "What does the budget look like for this project?", "[Roughly|Ballpark], what [are you|were you] [hoping|planning] to [spend|invest] on this?"),
        "closed": ("Is there a budget approved already?", "Do you have a number in mind?",
                   "Is budget already allocated for this year?", "[Has money|Has budget] been [set aside|earmarked] for this [already|yet]?"),
        "answer": ("We have about {budget} for it.", "The budget is {budget}, roughly.",
                   "Around {budget}, maybe a bit more if the case is strong.", "{budget}, and that's already tight.",
                   "Finance approved {budget}.", "We're thinking {budget} for the first year."),
    },
    "timeline": {
        "open": ("When would you like to have something in place?", "What's your timeline for this?",
                 "How soon do you need to decide?", "[By when|When] [would|do] you [ideally|realistically] want [a decision|this decided]?"),
        "closed": ("Do you want to buy this quarter?", "Is there a deadline?", "Are you aiming for {deadline}?", "[Is|Would] [this quarter|{deadline}] [realistic|the plan] for [buying|a decision]?"),
        "answer": ("Ideally by {deadline}.", "We want to decide before {deadline}.", "{deadline} at the latest.",
                   "The target is {deadline}.", "Before {deadline}, if possible.",
                   "We need it running by {deadline}."),
    },
    "pain_points": {
        "open": ("What's the biggest problem you're trying to solve?", "Where does it hurt most today?",
                 "What's not working with the current process?", "[If you had to|If you could only] pick one thing that [hurts|costs you] most [today|right now], what [would it be|is it]?"),
        "closed": ("Is the manual work the main issue?", "Is that causing real problems?",
                   "Is this costing you customers?", "Would you say [the manual work is|the errors are] [hurting|costing] you [the most|real money]?"),
        "answer": ("The biggest one is clear.", "Where to start.", "A few things, but mainly one.",
                   "Let me give you a number.", "It's not pretty.", "One thing stands out."),
    },
    "current_solution": {
        "open": ("What are you using today?", "How do you handle it at the moment?",
                 "What tools have you tried so far?", "[What's|What is] [the setup|in place] [today|right now] [for this|to handle this]?"),
        "closed": ("Are you using {competitor} today?", "Do you have a system for this?",
                   "Have you looked at other vendors?", "[Have you looked at|Did you try] [{competitor}|anything else] [already|before]?"),
        "answer": ("We use {competitor} for part of it, and spreadsheets for the rest.",
                   "Mostly spreadsheets. We looked at {competitor} too.", "{competitor}, but we're not happy with it.",
                   "We tested {competitor} last year.", "A homegrown tool, plus {competitor} in one branch.",
                   "Nothing proper, we also got a quote from {competitor}."),
    },
    "decision_process": {
        "open": ("What does your buying process look like?", "What are the steps to get this approved?",
                 "How do purchases like this usually go at {customer}?", "[Walk me through|Talk me through] how [a purchase|something] like this [gets approved|goes] at {customer}."),
        "closed": ("Does procurement need to run a tender?", "Is there a committee?",
                   "Does legal need to review the contract?", "[Will|Does] [procurement|legal] [need to|have to] [get involved|sign off] [too|as well]?"),
        "answer": ("There's a committee of {committee} people.", "Procurement, then {decision_maker}, then legal.",
                   "A committee of {committee}, and {decision_maker} has the final say.",
                   "Usually two rounds, and {decision_maker} signs.", "It's {committee} people, it takes a month or so.",
                   "Legal review, then {decision_maker}."),
    },
    "success_criteria": {
        "open": ("How would you measure success?", "What would make this a win for you in a year?",
                 "What result would you need to see?", "[A year from now|Twelve months out], what would [make you say|tell you] this [worked|was worth it]?"),
        "closed": ("Would halving the manual work be a success?", "Is there a target number?",
                   "Do you report on this to management?", "[Is there|Do you have] a [number|target|KPI] [you'd|you would] [hold us to|measure this by]?"),
        "answer": ("If we can cut that in half, I'm happy.", "Fewer complaints, simple as that.",
                   "The board wants to see a clear number.", "Less manual work and fewer errors.",
                   "If the team stops working weekends, that's success.", "Getting a clear view, every week."),
    },
    "delivery_timeline": {
        "open": ("When would you need it up and running?", "What does your rollout window look like?",
                 "How fast do you need to go live?", "[When|By when] [does|would] this [have to|need to] be [live|up and running]?"),
        "closed": ("Is {deadline} a hard deadline for go-live?", "Can you go live in phases?",
                   "Do you have IT capacity for the rollout?", "[Could|Would] a [phased|staged] [rollout|go-live] [work|be okay] for you?"),
        "answer": ("Live by {deadline}, no later.", "We'd want go-live before {deadline}.",
                   "Phases are fine, as long as we start before {deadline}.", "{deadline} is the hard date.",
                   "Before {deadline}, because that's when the season starts.", "Ideally {deadline}."),
    },
    "payment_terms": {
        "open": ("How do you usually handle payment terms?", "What payment terms does finance expect?",
                 "What payment schedule would work for you?", "[What|Which] [payment|billing] [schedule|terms] [does finance prefer|work best] [for you|on your side]?"),
        "closed": ("Is net {payment_terms} okay?", "Do you pay annually up front?", "Would quarterly billing work?", "[Would|Is] [net {payment_terms}|quarterly billing] [okay|fine] [with finance|for you]?"),
        "answer": ("Net {payment_terms} is our standard.", "Finance always asks for {payment_terms} days.",
                   "Quarterly would be easier.", "We usually pay {payment_terms} days after invoice.",
                   "Annual is fine if the price is right.", "{payment_terms} days, that's policy."),
    },
    "onboarding_owner": {
        "open": ("Who will own the rollout on your side?", "Who should our project manager work with?",
                 "Who takes care of onboarding internally?", "[Who|Which person] [would|will] [run|drive] the rollout [internally|on your side]?"),
        "closed": ("Will you own the rollout yourself?", "Is IT leading the implementation?",
                   "Do you have a project lead in mind?", "[Is {contact2} the one|Will {contact2} be the one] [leading|owning] the rollout?"),
        "answer": ("Probably me.", "{contact2} from my team.", "IT will lead it, with me.", "{contact2}, most likely.",
                   "We'll name someone next week.", "I'll own it personally."),
    },
}

NOTE_STYLES = (
    "Call with {contact} ({customer}) on {day}.\n"
    "Pain points: {pains}.\n"
    "Concerns raised: {objections}.\n"
    "{competitor_line}"
    "Next step: {next_step}.",
    "{customer} - {stage_name} call, {day}\n"
    "- Spoke with {contact}\n"
    "- They told us: {pains}\n"
    "- Objections: {objections}\n"
    "{competitor_line}"
    "- Agreed: {next_step}",
    "Spoke to {contact} at {customer} ({day}). Main issues: {pains}. They pushed back on {objections}. "
    "{competitor_line}We agreed on {next_step}.",
)
COMPETITOR_LINE = ("Competitor in play: {competitor}.\n", "- Also evaluating {competitor}\n",
                   "They are also looking at {competitor}. ")
NO_OBJECTIONS = "nothing in particular"
OBJECTION_NOTES = {
    "price": "price (budget {budget})", "competitor": "comparison with {competitor}",
    "timing": "timing", "authority": "sign-off by {decision_maker}", "need": "fit with their process",
    "trust": "risk and track record", "delivery": "go-live before {deadline}",
}
NEXT_STEP_NOTE = "{next_action} on {day}"
LIST_JOINER = "; "
FAKE_TEMPLATES = (
    "Productive meeting with {customer}. Discussed needs, client interested. Next step: send proposal.",
    "Good call with {customer}. Client sees value in our solution. Will follow up with pricing.",
    "Met {customer}. Positive discussion about their challenges and goals. Next step: proposal.",
    "Call summary: {customer} is interested. Discussed pain points and timeline. Follow-up next week.",
    "{customer} meeting went well. They like the product. Moving to proposal stage.",
    "Discussed requirements with {customer}. Strong interest, decision maker engaged. Send deck and quote.",
)
PROPOSAL_STYLE = (
    "Proposal for {customer}: {product} for {users} users.\n"
    "Addresses: {pains}.\n"
    "Price: {amount}, payment terms {payment_terms} days. Go-live target: {deadline}.",
    "{customer} - proposal\nScope: {product}, {users} users.\nProblems solved: {pains}.\n"
    "Commercials: {amount}, net {payment_terms}.",
)
PROPOSAL_TEMPLATES = (
    "Proposal sent to {customer}. Standard package, standard pricing.",
    "Standard proposal for {customer} as discussed. Pricing per list.",
    "Sent our standard solution deck and quote to {customer}.",
)
CALENDAR_STYLE = (
    "Invite: {contact} ({customer}) - {channel} on {day}",
    "Meeting booked with {contact}, {customer}: {channel}, {day}",
    "{customer} / {vendor}: {channel} with {contact} on {day}",
)
PARAPHRASE_SWAPS = (
    ("Pain points", "Key problems"), ("Concerns raised", "Objections"), ("Next step", "Follow-up"),
    ("Spoke with", "Talked to"), ("They told us", "Customer mentioned"), ("Agreed", "Next"),
    ("Main issues", "Key issues"), ("pushed back on", "had doubts about"), ("We agreed on", "Next step is"),
)
STAGE_NAMES = {
    "qualification": "qualification", "needs_diagnosis": "needs diagnosis",
    "solution_presentation": "solution presentation", "negotiation": "negotiation",
}
CHANNELS = {"phone": "phone call", "video": "video call", "visit": "on-site visit"}

COURSES = {
    "questioning": ("Asking Better Questions", "Open Questions That Uncover Needs"),
    "needs_discovery": ("Deep Discovery: From Symptoms to Root Causes",),
    "active_listening": ("Active Listening for Sellers",),
    "objection_handling": ("Handling Objections with Confidence", "The Objection Playbook"),
    "competitor_handling": ("Winning Against Competitors",),
    "value_articulation": ("Articulating Business Value",),
    "solution_customisation": ("Tailoring Solutions to the Customer",),
    "price_negotiation": ("Pacing the Price Conversation", "Negotiating Without Discounting"),
    "closing": ("Closing and Clear Next Steps",),
    "rapport": ("Building Rapport Fast",),
    "product_knowledge": ("Product Deep Dive",),
    "follow_up": ("Follow-up That Customers Notice",),
}

KQ_FALLBACK = {"question": "Can we talk about {topic}?", "answer": "Sure, happy to."}

FILLERS = ("Um, ", "Uh, ", "So, um, ", "Well, ", "I mean, ", "Uh, so, ")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Words that stay capitalised after a filler ("Um, Stackline showed us ..."); everything else is lowered.
_PROPER = frozenset(
    word
    for phrase in (FIRST_NAMES + COMPANY_STEMS + COMPETITORS + CASE_CUSTOMERS + PRODUCTS + CITIES + _WEEKDAYS
                   + (VENDOR, "I", "I'm", "I'll", "I've", "I'd", "Q2", "Q3", "IT"))
    for word in phrase.split()
)
_REPEATABLE = frozenset("we i it that the our so you they".split())


def format_money(value: float) -> str:
    """An amount as a person says it: ``$85,000`` (rounded to the thousand)."""
    return f"${int(round(value / 1000.0)) * 1000:,}"


def format_day(day: date) -> str:
    """A date as a person says it, e.g. ``Tuesday, March 4``."""
    return f"{day.strftime('%A')}, {day.strftime('%B')} {day.day}"


def finish(text: str) -> str:
    """Capitalise the first letter (a slot such as 'the CFO' may open a sentence)."""
    return text[:1].upper() + text[1:]


def count_units(text: str) -> int:
    """Words, for the speaking-time estimate."""
    return len(text.split())


def disfluent(text: str, rng: np.random.Generator) -> str:
    """Sometimes add a filler, a 'you know' or a repeated first word, as people talk."""
    roll = rng.random()
    if roll < 0.12:
        return FILLERS[int(rng.integers(len(FILLERS)))] + _lower_first(text)
    if roll < 0.18:
        return _repeat_first_word(text)
    if roll < 0.23:
        return _insert_after_first_clause(text, " you know,")
    return text


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0].rstrip(",.?!:")
    return text if first in _PROPER else text[0].lower() + text[1:]


def _repeat_first_word(text: str) -> str:
    first, _, rest = text.partition(" ")
    if first.lower() not in _REPEATABLE or not rest:
        return text
    return f"{first}- {first.lower() if first != 'I' else first} {rest}"


def _insert_after_first_clause(text: str, filler: str) -> str:
    head, comma, tail = text.partition(",")
    return f"{head},{filler}{tail}" if comma and tail else text


def make_person(rng: np.random.Generator, formal: bool) -> tuple[str, str, str]:
    """(full name, how the other side addresses them, e-mail local part)."""
    first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
    last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
    return f"{first} {last}", first, f"{first}.{last}".lower()


def make_company(rng: np.random.Generator, industry: str) -> tuple[str, str]:
    """(registered name, the short name people say)."""
    stem = COMPANY_STEMS[int(rng.integers(len(COMPANY_STEMS)))]
    suffixes = COMPANY_SUFFIXES[industry]
    name = f"{stem} {suffixes[int(rng.integers(len(suffixes)))]}"
    return name, name


# -- composed phrasings (see compose.py: [a|b|] is a choice) ------------------------------------------
# Objection families beside "direct" (PHRASES["obj.<type>"]): said indirectly (a fact that implies it),
# hedged (softened, unsure) and as a question. Every sentence of a template carries the objection.
OBJECTION_VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "price": {
        "indirect": (
            "We'd have to [find the money somewhere else|take it out of another project's budget] first.",
            "Finance [just|already] cut our [software|IT] spend for [this year|the rest of the year].",
            "[Look, |]{budget} is what we have[, and that's it| for this| all in].",
            "I'd have a hard time getting {amount} [past|through] [our CFO|finance|{decision_maker}].",
            "Our board [is watching every dollar|froze new spending|asked us to cut costs] [right now|this year].",
            "The last tool we bought [cost half that|came in well under {budget}], [and people still complained|"
            "and even that was a fight].",
        ),
        "hedged": (
            "I [might|could] be wrong, but {amount} feels [a bit|a little|kind of] steep for what we'd use.",
            "I'm not [sure|certain] the numbers work for us[, to be honest|, honestly|].",
            "It's [probably|maybe] [a bit|a little] more than we [hoped|had in mind|planned for], if I'm honest.",
            "I [guess|suppose] the price could be [a sticking point|an issue|a hurdle] [for us|internally].",
            "It feels [kind of|sort of|a bit] pricey [compared to|next to] the {budget} we [budgeted|set aside].",
        ),
        "question": (
            "Is there any [flexibility|room|wiggle room] on the price?",
            "Why is it {amount} when we only [set aside|have|budgeted] {budget}?",
            "Can you [get|bring] it [closer to|down to] {budget}[ somehow|]?",
            "What [exactly|really] are we paying for at {amount}?",
            "Is there a [smaller|cheaper|lighter] package [for a team our size|we could start with]?",
        ),
    },
    "competitor": {
        "indirect": (
            "[{competitor}|The other vendor] [came in|quoted us] about [twenty|thirty|fifteen] percent lower.",
            "Our IT lead [already|really] [likes|prefers] {competitor}[, to be honest|, if I'm honest|].",
            "We've [got|had] a {competitor} proposal sitting on my desk[ right now| since last week|].",
            "{competitor} [had|sent] a team [in here|over] [last week|on Tuesday] [doing a workshop|for a demo].",
            "[Two|Three|A few] of our [sister companies|partners] [run|went with] {competitor}[ already|].",
        ),
        "hedged": (
            "I [guess|suppose] {competitor} [could|might] do [most|much] of this [too|as well].",
            "[Maybe|It's possible] {competitor} is [a better|a closer] fit, I don't know [yet|for sure].",
            "[Some|A few] of my colleagues [lean|are leaning] towards {competitor}[, I think|, honestly|].",
            "I'm not [sure|convinced] you're [that|really] different from {competitor}[, to be honest|].",
        ),
        "question": (
            "What [do|would] you do that {competitor} [doesn't|can't]?",
            "How are you [different from|better than] {competitor}[, really| exactly|]?",
            "Why [would|should] we [switch|move] away from {competitor}?",
            "Have you [ever] [won|beaten] {competitor} at a company like ours?",
        ),
    },
    "timing": {
        "indirect": (
            "We're [in the middle of|right in] [an ERP migration|a reorg|budget season] [until|through] {deadline}.",
            "Nobody here has [the bandwidth|the time|the headspace] for a new project [before|until] {deadline}.",
            "[Our|The] leadership [just|already] froze new projects [for the quarter|until {deadline}].",
            "[Let's|Maybe we should] [talk|catch up|reconnect] again after {deadline}.",
            "Half my team is [out|on leave|on another project] [until|through] {deadline}.",
        ),
        "hedged": (
            "I [think|feel like] it [might|may] be [a bit|too|a little] early for us.",
            "[Maybe|Possibly] [next quarter|after {deadline}] would be [better|more realistic], I'm not sure.",
            "I [don't know if|doubt] we can [take this on|fit this in] [right now|this quarter|before {deadline}].",
            "It's [probably|maybe] [not the best|not the right] moment for us[, honestly|, to be fair|].",
        ),
        "question": (
            "Could we [push|move] this to after {deadline}?",
            "Does it [have to|need to] [start|happen] this quarter?",
            "What [if|happens if] we wait until {deadline}?",
            "Is there any [rush|hurry] on your side? [Because|'Cause] there isn't [any ]on ours.",
        ),
    },
    "authority": {
        "indirect": (
            "I'll [have to|need to] [take|bring] this to {decision_maker} [first|before anything happens].",
            "{decision_maker} [usually|always] [wants|likes] to see [three quotes|a full business case] [first|"
            "for anything like this].",
            "[Anything|Every purchase] over [fifty thousand|a certain amount] goes to [the board|{decision_maker}].",
            "Our procurement [team|people] [will|is going to] [want|insist on] a [formal tender|full RFP].",
            "[The last time|Last year] I [pushed|tried to push] something [like this|through], {decision_maker} "
            "[sent it back|said no].",
        ),
        "hedged": (
            "I [think|suspect] {decision_maker} [might|would] [want to weigh in|want a say] on this.",
            "[I'm not sure|I don't know if] I can [commit|sign] [to this|off on this] [on my own|by myself].",
            "[Probably|Likely] the [committee|{committee} of us] [would|will] need to [agree|look at it] first.",
        ),
        "question": (
            "Can you [send|put together] something I can [show|forward to] {decision_maker}?",
            "Would you be [able|willing] to [present|pitch] it to {decision_maker} [directly|yourself]?",
            "Who [usually|normally] [deals|talks] with [our|the] [procurement|finance] people[ on your side|]?",
        ),
    },
    "need": {
        "indirect": (
            "[We've|We have] [been managing|got by] [fine |]with [spreadsheets|what we have] for [years|a decade].",
            "The team is [used to|happy with] the [current|old] process[, honestly|, to be honest|].",
            "[That problem|This] only [comes up|happens] [a couple of times|once or twice] a [year|quarter].",
            "Our IT [team|folks] [says|say] they could [build|script] [something like this|this] [themselves|"
            "in house].",
        ),
        "hedged": (
            "[I'm not sure|I don't know if] it's [really|actually] [a priority|a must-have] for us.",
            "[Maybe|Perhaps] [it's|this is] [more|a bit more] than we [need|actually need] [right now|at the moment].",
            "I [guess|suppose] it [could|would] help, but [I'm not sure how much|maybe not by a lot].",
        ),
        "question": (
            "What [would|does] this [actually|really] [fix|change] for us [day to day|in practice]?",
            "Why would we need this if [the current setup|what we have] [works|still works]?",
            "Is this [really] [worth it|worth the change] for a team of {users}?",
        ),
    },
    "trust": {
        "indirect": (
            "Our [last|previous] vendor [went under|disappeared] [halfway through|in the middle of] the project.",
            "[Legal|Our security team] [will|is going to] go through your contract [line by line|with a fine-tooth "
            "comb].",
            "I [haven't|have not] [heard of|met] anyone [in our industry|our size] who [uses|runs] you[ yet|].",
            "[People here|My team] still [talk about|remember] the last [rollout|system] that [failed|went wrong].",
        ),
        "hedged": (
            "I'm [a bit|a little] [nervous|wary] about [putting|trusting] our data [with|in] a [newer|smaller] "
            "[vendor|company].",
            "[I'd|We'd] [probably|likely] want [more|some more] [proof|references] [first|before we go ahead].",
            "It's [maybe|probably] [just me|me being cautious], but I'm not [fully|completely] convinced[ it works "
            "at our scale| yet|].",
        ),
        "question": (
            "[Do you have|Can you share] [references|a customer] [in|from] our industry?",
            "What happens to our data if [you get acquired|you go out of business|we leave]?",
            "How do I [know|explain to my boss] this won't [fail|go wrong] like the last one?",
            "[Who else|Which companies] our size [actually] [use|run] this?",
        ),
    },
    "delivery": {
        "indirect": (
            "Our IT [team is|people are] [fully booked|completely swamped] [until|through] {deadline}.",
            "[Peak season|Our busy season] [starts|kicks off] right after {deadline}, so [nothing can break|"
            "we can't risk any downtime].",
            "[Last time|The last rollout] [ran|went] [three months|months] [over|late][, and people still "
            "remember it|].",
            "We [don't have|have no] [anyone|people] [to|who can] [clean up|migrate] the [old|legacy] data.",
        ),
        "hedged": (
            "I'm [not sure|doubtful] we [could|can] [go live|be ready] by {deadline}[, honestly|, to be honest|].",
            "[I worry|I'm worried] the [rollout|migration] [might|could] [drag on|take longer than planned].",
            "[Maybe|Possibly] [the|your] timeline is [a bit|a little] [optimistic|tight] for us.",
        ),
        "question": (
            "[How long|How many weeks] [does|would] the [rollout|implementation] [take|actually take]?",
            "[Who|Which team] [handles|does] the [migration|data migration], [you or us|us or you]?",
            "Can [we|you] [really|actually] [be|get us] live [before|by] {deadline}?",
        ),
    },
}
# Answer moves beside "plain" (PHRASES["move.<move>"]): the same move said loosely, one sentence each.
MOVE_VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "acknowledge": {"spoken": (
        "[Yeah|Sure|Right], I [get|hear] that[, totally| completely|].",
        "[Okay|Fair], [that's|I think that's] a [really |][reasonable|valid] thing to [raise|bring up].",
        "No, [that makes sense|I get it], [{concern} is|that's] [a big deal|important] for [you|a team like yours].",
        "I'm glad you [said|mentioned] it, [because|since] [a lot of|most] [people|teams] [think|wonder] the "
        "same.",
    )},
    "clarify": {"spoken": (
        "[Okay, |]what's [behind|underneath] that[, if you don't mind me asking|]?",
        "[When you say|You mentioned] {concern}, what [exactly|specifically] [do you mean|are you thinking of]?",
        "Is it [more|mostly] {concern}, or [is there|there's] something else [going on|behind it]?",
        "[Can|Could] you [say|tell me] [a bit|a little] more about [that|where that comes from]?",
    )},
    "confirm_timeline": {"spoken": (
        "[Just|So] [timing-wise|on timing], [are you|you're] still [looking at|aiming for] {deadline}?",
        "[And|So] when [would|do] you [ideally|realistically] [want|need] this [running|live]?",
        "Is {deadline} [still|really] the [date|target], or [has|did] that [moved|move]?",
        "What's [the|your] [real|actual] [deadline|buying date] on this[, roughly|]?",
    )},
    "reframe_value": {"spoken": (
        "[Think about it|Look at it] this way, {pain_note} [is already costing you|costs you] [every month|"
        "every week].",
        "[Honestly, |]the [bigger|real] cost [here|today] is {pain_note}, not [our|the] [fee|price].",
        "[If|Once] {pain_note} goes away, [this|it] [pays for itself|pays back] [pretty |][fast|quickly].",
        "[Compared to|Against] {pain_note}, [the|this] [price|cost] is [small|modest][, really|].",
    )},
    "cite_case": {"spoken": (
        "[Funny enough|Actually], {case_customer} [said|told us] [the exact same thing|almost the same thing] "
        "[last year|a while back].",
        "[We had|There was] [a|one] customer, {case_customer}, [same size|same setup], who [got|saw] {case_pct} "
        "percent [back|better].",
        "[If it helps|Happy to], I can [put you in touch with|introduce you to] [someone at|the team at] "
        "{case_customer}.",
        "{case_customer} [went through|had] [the same|this exact] [worry|question], and [it worked out|they're "
        "glad they went ahead].",
    )},
    "offer_installments": {"spoken": (
        "[What if|How about if] we [split|break] [it|the cost] [into|over] {installments} [payments|chunks]?",
        "[We can|We could] [spread|stretch] [it|the payments] [across|over] {installments} [quarters|instalments].",
        "[Paying|Pay] in {installments} [parts|payments] [would|should] [keep|get] [you|this year] [under|within] "
        "{budget}.",
    )},
    "offer_discount": {"spoken": (
        "[Okay, |]I [could|can] [probably|maybe] [knock|take] {discount} percent off[ for you|].",
        "[Let me|I'll] [see|check] if I can [get|do] {discount} percent [off|lower][ for you|].",
        "[If we|If you] [sign|close] [this month|by Friday], [I can do|there's] {discount} percent [off|"
        "discount].",
    )},
    "compare_competitor": {"spoken": (
        "[The thing with|What people find with] {competitor} is [the integration|the setup] [costs extra|"
        "isn't included].",
        "[Honestly, |]{competitor} [is fine|is good], but [we're|we go] live [in weeks|way faster].",
        "[Side by side|Line by line], [we|our total cost] [come out|comes out] [lower|ahead] of {competitor} "
        "over three years.",
    )},
    "map_decision_chain": {"spoken": (
        "[And|So] who [else |][gets|has] a say [in this|on this][, besides you|]?",
        "[How does|How would] [sign-off|approval] work [on your side|at {customer}]?",
        "Is {decision_maker} [the one who signs|going to sign], or [is there|there's] [a committee|someone "
        "else]?",
        "[Who could|Anyone who could] [block|stall] this [later|down the line]?",
    )},
    "offer_pilot": {"spoken": (
        "[Why don't we|What if we] [just |][try it|start] with one team for {pilot_weeks} weeks?",
        "[Let's|We could] [do|run] a [small|short] pilot, {pilot_weeks} weeks, [no big commitment|low risk].",
        "[A|One] {pilot_weeks}-week pilot [would|could] [show|tell] you [pretty |][quickly|fast] if it [works|"
        "fits].",
    )},
    "provide_guarantee": {"spoken": (
        "[And|Plus] [if it doesn't work|if we don't deliver], you [get|have] {guarantee_days} days to [walk away|"
        "exit].",
        "[We'll|We can] [put|write] [the|a] [guarantee|service level] [in|into] the contract[, in writing|].",
        "[If|Should] we [miss|slip on] the date, [the first|your first] {guarantee_days} days are on us.",
    )},
    "confirm_delivery_plan": {"spoken": (
        "[Realistically|Roughly], it's {weeks} weeks [from signing|end to end] to go-live.",
        "[We handle|Our team does] the migration, [your IT|your people] [just|only] [join|need] a few hours a "
        "week.",
        "[The|Our] plan [would be|is] setup, [migration|data migration], [then|and then] training, {weeks} "
        "weeks [total|in all].",
    )},
    "propose_next_step": {"spoken": (
        "[Shall|Should] we [pencil in|book] {next_action} [for|on] {date}?",
        "[How about|What about] {next_action}[ on| say] {date}?",
        "[Let me|I'll] [set up|send an invite for] {next_action} on {date}, [okay|sound good]?",
    )},
}
# Openers continue the sentence (no terminator), so they may precede a moment's sentence.
OPENERS = {
    "rep": (
        "So, ", "Okay, so ", "Right, ", "Alright, ", "{contact_first}, ", "And {contact_first}, ",
        "So {contact_first}, ", "Look, ", "Okay, ", "Great, ", "Yeah, ", "Mm, okay, ", "[Sorry to|If I can] "
        "jump in, ", "Sorry, go ahead, [actually|well], ", "Quick one, ", "[Honestly|Truthfully], ",
        "[Good|Great] point, and ",
    ),
    "customer": (
        "Well, ", "Honestly, ", "Look, ", "Hmm, ", "Yeah, ", "Okay, ", "So, ", "{rep_first}, ", "To be honest, ",
        "I mean, ", "Right, so ", "Sorry, [just to|let me] jump in, ", "Hang on, ", "Yeah, no, ", "Truth is, ",
        "See, ", "[Okay|Right], {rep_first}, ",
    ),
}
# Interjections open short turns (greetings, thanks, "right"), where a hedge would be odd.
INTERJECTIONS = ("Oh, ", "Ah, ", "Yeah, ", "Okay, ", "Mm, ", "Oh, okay, ", "Right, ", "Great, ", "Yes, ", "Perfect, ",
                 "Alright, ", "Oh, great, ")
# How a rep leads into a question, and the short sentence that may follow it.
QUESTION_OPENERS = ("Can I ask, ", "Out of curiosity, ", "Let me ask you this, ", "I'm curious, ",
                    "Just so I understand, ", "{contact_first}, quick question, ", "And [so|then], ",
                    "[Okay|Alright], next thing, ")
# Short sentences that may follow a turn, by act and role.
AFTERWORDS = {
    "question.rep": ("Roughly is fine.", "Just a ballpark.", "No wrong answer here.", "Just so I get the full picture.",
                     "I'm asking because {case_customer} had [a similar|the same] setup.",
                     "[I'm curious|Curious] how {customer} does it.", "Take your time.", "Even a rough idea helps."),
    "farewell.rep": ("Say hi to {contact2} for me.", "I'll [send|share] the [recap|summary|deck] [tonight|after this].",
                     "Good luck with [the rest of the week|the hiring|{deadline}]!", "[Enjoy|Have a good] weekend."),
    "farewell.customer": ("Say hi to the team.", "[Send|Email] me [the slides|the recap|that case study].",
                          "I'll [talk to|loop in] {contact2} [today|tomorrow].", "[Good|Great] talking to you."),
    "greet.customer": ("[Sorry|Apologies], [one sec|one second], [let me close the door|my other line is ringing].",
                       "{contact2} [might|may] [join|drop in] [later|halfway].", "[I only|We only] have [until|till] "
                       "the top of the hour."),
}
# A short sentence of its own before a turn that is not a moment (it would be labelled with it).
PREAMBLES = {
    "rep": (
        "Okay, great.", "Got it.", "That's [really |]helpful.", "Thanks, that's useful.", "Perfect.",
        "Makes sense.", "Interesting.", "Sorry, you cut out for a second.", "Okay, noted.", "Right.",
        "[Okay|Alright], {contact_first}.", "Good to know.",
    ),
    "customer": (
        "Good question.", "Let me think.", "Hmm, let me see.", "Okay.", "Right.", "Sure.", "Fair question.",
        "Oh, that's a good one.", "Sorry, I was on mute.", "Sorry, say that again? Ah, okay.",
        "[Okay|Right], {rep_first}.", "Uh, yeah.",
    ),
}
# Tags before the final full stop or question mark.
TAILS = {
    ".": (", to be honest", ", I think", ", honestly", ", you know", ", really", " at this point",
          ", if I'm honest", ", I'd say"),
    "?": (", by the way", ", if you don't mind me asking", ", roughly", ", more or less", ", would you say"),
}


def objection_families(objection_type: str) -> dict[str, tuple[str, ...]]:
    """The phrasing families of an objection type: direct, indirect, hedged, question."""
    return {"direct": PHRASES[f"obj.{objection_type}"], **OBJECTION_VARIANTS[objection_type]}


def move_families(move: str) -> dict[str, tuple[str, ...]]:
    """The phrasing families of an answer move: plain and spoken."""
    return {"plain": PHRASES[f"move.{move}"], **MOVE_VARIANTS[move]}


def open_with(opener: str, text: str) -> str:
    return opener + _lower_first(text)


def with_tail(text: str, rng: np.random.Generator) -> str:
    """A tag before the final '.' or '?' (none on other endings)."""
    tails = TAILS.get(text[-1:], ())
    return text[:-1] + tails[int(rng.integers(len(tails)))] + text[-1] if tails else text


def code_switch(text: str, rng: np.random.Generator) -> str:
    """English calls stay in English."""
    return text
