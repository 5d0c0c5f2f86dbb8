"""The virtual customer: how real customers react to answers, how they talk, how an answer scores.

- :class:`ReplyReader` reads a real customer reply as concede / push back / neither (zero-shot,
  from example phrasings), so the corpus can be labelled with reactions.
- :class:`CustomerPolicy` learns P(reaction | objection type, rep moves) from those episodes.
- :class:`PersonaFitter` picks, among real customer lines, the ones that fit a persona; a
  :class:`LineGenerator` may rephrase them (none by default).
- :class:`AnswerScorer` scores a rep's answer 0-100 against reference top-seller answers.

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
from talktrack.models.drills.reactions import REPLY_CLASSES, ReplyReader
from talktrack.models.drills.scoring import AnswerScorer, Reference

__all__ = ["REACTIONS", "REPLY_CLASSES", "AnswerScorer", "CustomerPolicy", "LineGenerator", "Persona",
           "PersonaFitter", "ReactionExample", "Reference", "ReplyReader",
           "TransformersGenerator", "make_generator"]
