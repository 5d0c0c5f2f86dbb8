"""360-degree survey scores: per rep, month, dimension and source, a noisy and biased
but monotone reading of that month's hidden level (see causal.SURVEY_SOURCES)."""

from __future__ import annotations

from talktrack.evaluation.world import causal
from talktrack.evaluation.world.records import Rep, Survey
from talktrack.evaluation.world.spec import WorldSpec, child_rng

STEP_SURVEYS = 60


def make_surveys(spec: WorldSpec, reps: list[Rep], dimensions: tuple[str, ...]) -> list[Survey]:
    """One row per (rep, month, dimension, source); the self source is on."""
    periods = spec.periods()
    rows = []
    for rep_index, rep in enumerate(reps):
        rng = child_rng(spec.seed, STEP_SURVEYS, rep_index)
        for month, period in enumerate(periods):
            for dim_index, dimension in enumerate(dimensions):
                level = float(rep.levels[month, dim_index])
                rows += [_survey(rep, period, dimension, source, level, rng) for source in causal.SURVEY_SOURCES]
    return rows


def _survey(rep: Rep, period: str, dimension: str, source: str, level: float, rng) -> Survey:
    params = causal.SURVEY_SOURCES[source]
    respondents = int(rng.integers(params["respondents_min"], params["respondents_max"] + 1))
    score = round(causal.survey_score(level, source, respondents, rng), 2)
    return Survey(rep.rep_id, period, dimension, source, score, respondents, level)
