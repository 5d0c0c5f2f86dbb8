"""The catalog's tables (SQLAlchemy 2 declarative mapping), one module per area.

Every entity that comes from a CRM carries its ``external_id`` (unique), which is
what imports upsert on; integer primary keys are internal. Times are stored as
naive UTC datetimes. Changing a table here needs an Alembic revision under
``migrations/versions`` (a test compares the two).

=================  ===========================================================================
module             tables
=================  ===========================================================================
``crm``            teams, reps, customers, deals, stage events, evidence documents, survey
                   scores, courses, import runs
``conversations``  calls, call attempts, speakers, utterances, moments, moment labels
``coaching``       talk tracks and their reviews, mining runs, drills and drill turns
``service``        API keys, jobs
``features``       precomputed per-call conversation features (what a deal's score reads)
``proof``          issued (watermarked) quotes, stage-gate checks
=================  ===========================================================================

Import tables from here (``from talktrack.core.catalog.schema import Call``): importing this
package registers every table on :data:`Base.metadata`, which Alembic compares with the
migrations.
"""

from talktrack.core.catalog.schema.base import NAMING_CONVENTION, Base
from talktrack.core.catalog.schema.anomalies import AnomalyCase, AnomalyCaseEvent  # noqa: F401
from talktrack.core.catalog.schema.brief import ANSWER_CHANNELS, SurpriseAnswer  # noqa: F401
from talktrack.core.catalog.schema.chat_text import ChatAnalysis, ChatMoment, ChatUtterance  # noqa: F401
from talktrack.core.catalog.schema.chats import (  # noqa: F401  (registers the chat tables)
    CHAT_CHANNELS, IDENTITY_KINDS, ChatConversation, ChatMessage, Contact, Identity, MessageFile, RevokedMessage,
)
from talktrack.core.catalog.schema.coaching import (
    TRACK_STATUSES,
    Drill,
    DrillTurn,
    MiningRun,
    TalkTrack,
    TalkTrackReview,
)
from talktrack.core.catalog.schema.conversations import (
    CALL_STATUSES,
    MOMENT_KINDS,
    TRANSCRIBED_FROM_AUDIO,
    Call,
    CallAttempt,
    Moment,
    MomentLabel,
    Speaker,
    Utterance,
)
from talktrack.core.catalog.schema.crm import (
    Course,
    Customer,
    Deal,
    EvidenceDocument,
    ImportRun,
    Rep,
    StageEvent,
    SurveyScore,
    Team,
)
from talktrack.core.catalog.schema.features import CallFeatureRow
from talktrack.core.catalog.schema.mentoring import MentoringEvent, MentoringExport, MentoringPoints  # noqa: F401
from talktrack.core.catalog.schema.proof import GATE_STATUSES, IssuedQuote, StageGateCheck
from talktrack.core.catalog.schema.revenue import (  # noqa: F401  (registers the revenue tables)
    Collection, Contract, FieldEntry, Lead, MarketingSpend, ProductLine, Visit,
)
from talktrack.core.catalog.schema.service import JOB_STATUSES, ApiKey, Job

__all__ = [
    "CALL_STATUSES", "GATE_STATUSES", "JOB_STATUSES", "MOMENT_KINDS", "NAMING_CONVENTION", "TRACK_STATUSES",
    "TRANSCRIBED_FROM_AUDIO",
    "ApiKey", "Base", "Call", "CallAttempt", "CallFeatureRow", "Course", "Customer", "Deal", "Drill", "DrillTurn",
    "EvidenceDocument", "ImportRun", "IssuedQuote", "Job", "MiningRun", "Moment", "MomentLabel", "Rep", "Speaker",
    "StageEvent", "StageGateCheck", "SurveyScore",
    "TalkTrack", "TalkTrackReview", "Team", "Utterance",
]
