"""Seeded sales-world generator: a CRM export, call transcripts (English and Mandarin),
optional espeak-ng audio, and the hidden truth that evaluations grade against.

>>> from pathlib import Path
>>> from talktrack.evaluation.world import Taxonomy, WorldSpec, generate_world
>>> summary = generate_world(WorldSpec(seed=7), Path("/tmp/world-7"), Taxonomy.default())  # doctest: +SKIP
"""

from talktrack.evaluation.world.audio import EspeakMissingError
from talktrack.evaluation.world.generate import generate_world
from talktrack.evaluation.world.spec import StageDef, Taxonomy, WorldSpec, WorldSummary

__all__ = ["EspeakMissingError", "StageDef", "Taxonomy", "WorldSpec", "WorldSummary", "generate_world"]
