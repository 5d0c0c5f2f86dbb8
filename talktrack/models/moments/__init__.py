"""Moments: customer objections and rep moves in English and Chinese, and field-note extraction.

A :class:`MomentDetector` classifies each sentence of an utterance in the shared multilingual
embedding space, so examples in one language help the other. It works from the taxonomy's
example phrasings alone and improves when given labelled sentences (coach decisions,
generated labels).

>>> from talktrack.models.moments import split_sentences
>>> [s.text for s in split_sentences("That's too expensive. Can we talk next week?")]
["That's too expensive.", 'Can we talk next week?']
"""

from talktrack.models.moments.detector import DetectorError, Moment, MomentDetector
from talktrack.models.moments.sentences import Sentence, split_sentences
from talktrack.models.moments.taxonomy import LabelledExample, Taxonomy, TaxonomyError, load_taxonomy

__all__ = [
    "DetectorError", "LabelledExample", "Moment", "MomentDetector", "Sentence", "Taxonomy", "TaxonomyError",
    "load_taxonomy", "split_sentences",
]
