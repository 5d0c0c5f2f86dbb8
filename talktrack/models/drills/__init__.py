"""The virtual customer: how real customers react to answers, how they talk, how an answer scores.

- :class:`ReplyReader` reads a real customer reply as concede / push back / neither (zero-shot,
  from example phrasings), so the corpus can be labelled with reactions.
- :class:`CustomerPolicy` learns P(reaction | objection type, rep moves) from those episodes.
- :class:`PersonaFitter` picks, among real customer lines, the ones that fit a persona; a
  :class:`LineGenerator` may rephrase them (none by default).
- :class:`AnswerReader` reads what an answer does (acknowledge, discovery question, quantified
  value, next step; instant discount, running a competitor down, brushing the concern aside, not
  knowing), and :func:`feedback` says it to the rep in their language;
- :class:`AnswerScorer` scores a rep's answer 0-100 from those, its moves against the mined tracks
  and its closeness to top-seller answers.

Nothing here reads the catalog: :mod:`talktrack.pipelines.drills` builds the inputs, and the
knobs come from ``settings.drills`` (:class:`talktrack.core.config.DrillSettings`).
"""

from talktrack.models.drills.persona import (
    LineGenerator,
    Persona,
    PersonaFitter,
    TransformersGenerator,
    make_generator,
)
from talktrack.models.drills.policy import REACTIONS, CustomerPolicy, ReactionExample
from talktrack.models.drills.qualities import AnswerQuality, AnswerReader, feedback
from talktrack.models.drills.reactions import REPLY_CLASSES, ReplyReader
from talktrack.models.drills.scoring import AnswerScorer, Reference

__all__ = ["REACTIONS", "REPLY_CLASSES", "AnswerQuality", "AnswerReader", "AnswerScorer", "CustomerPolicy", "LineGenerator", "Persona",
           "PersonaFitter", "ReactionExample", "Reference", "ReplyReader",
           "TransformersGenerator", "feedback", "make_generator"]
