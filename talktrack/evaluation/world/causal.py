"""The hidden causal model of the world: what really makes deals win, reps answer well,
surveys come out as they do, and reps fake progress.

Everything an evaluation is graded against lives here as plain constants and is
copied verbatim into ``truth.json`` by :func:`model_card`. A leaf module: numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

PIPELINE = ("lead", "qualification", "needs_diagnosis", "solution_presentation", "negotiation")
WON_STAGE = "contract_delivery"
CALL_STAGES = ("qualification", "needs_diagnosis", "solution_presentation", "negotiation")


@dataclass(frozen=True)
class PlantedTrack:
    """An (objection type -> ordered moves) answer with a known causal effect on the win logit.

    It counts as used in a deal when, in some answer to ``objection_type`` in the deal's
    calls, ``moves`` appear in this order as a subsequence of the answer's moves.
    """

    objection_type: str
    moves: tuple[str, ...]
    logit_effect: float
    decoy: bool
    skill: str  # the dimension whose level drives how often a rep uses it

    @property
    def track_id(self) -> str:
        return f"{self.objection_type}:{'>'.join(self.moves)}"


PLANTED_TRACKS: tuple[PlantedTrack, ...] = (
    PlantedTrack("price", ("confirm_timeline", "offer_installments"), 1.2, False, "price_negotiation"),
    PlantedTrack("price", ("offer_installments", "confirm_timeline"), 0.0, True, "price_negotiation"),
    PlantedTrack("competitor", ("acknowledge", "cite_case", "compare_competitor"), 0.9, False, "competitor_handling"),
    PlantedTrack("timing", ("clarify", "propose_next_step"), 0.7, False, "closing"),
    PlantedTrack("delivery", ("confirm_delivery_plan", "provide_guarantee"), 0.8, False, "product_knowledge"),
)
DECOY_IDS = frozenset(t.track_id for t in PLANTED_TRACKS if t.decoy)  # membership tests only

# Moves with their own small effect on the win logit when used in any answer of the deal.
MOVE_EFFECTS: dict[str, float] = {"offer_discount": -0.3}

# logit p_win = intercept + sum(coef * feature); see FEATURE_DEFINITIONS.
OUTCOME_COEFFICIENTS: dict[str, float] = {
    "intercept": -0.5,
    "quality": 0.7,
    "skill": 0.8,
    "stalled": -0.8,
    "language_match": 0.3,
}
FEATURE_DEFINITIONS: dict[str, str] = {
    "quality": "the customer's hidden quality score (customers[*].quality)",
    "skill": "mean of the owner's 12 hidden levels (z-scores) in the month the deal was created",
    "stalled": "1 if any planned stage duration (lead..negotiation) exceeds the stage's threshold_days "
               "(for an open deal: its planned timeline, also beyond the world's end)",
    "language_match": "1 if the owner's working language equals the customer's language",
    "track:<id>": "1 if the planted track was used in an answer in one of the deal's calls (once per deal; "
                  "for an open deal, the calls up to the world's end)",
    "move:<key>": "1 if the move appears in any answer in the deal's calls (once per deal)",
}

# How often a rep answers an objection with the planted track: sigmoid(a + b * level[skill]).
TRACK_USE = {"intercept": -0.9, "slope": 1.3}
# The decoy (reverse order) is used with a fixed probability, independent of skill,
# whenever the real track is not used.
DECOY_USE_PROBABILITY = 0.18

# Customer reaction after the answer: probabilities of (concede, push_back, new_objection).
REACTION_POLICY: dict[str, tuple[float, float, float]] = {
    "planted_track": (0.70, 0.20, 0.10),
    "offer_discount": (0.60, 0.25, 0.15),
    "single_move": (0.30, 0.50, 0.20),
    "other": (0.40, 0.40, 0.20),
}
REACTIONS = ("concede", "push_back", "new_objection")

# Surveys: score = 1 + 4 * sigmoid(slope * (level + bias) + eps), eps ~ N(0, sd / sqrt(respondents)).
SURVEY_SLOPE = 0.9
SURVEY_SOURCES: dict[str, dict[str, float]] = {
    "customer": {"bias": 0.10, "noise_sd": 1.00, "respondents_min": 1, "respondents_max": 8},
    "manager": {"bias": 0.00, "noise_sd": 0.50, "respondents_min": 1, "respondents_max": 1},
    "peer": {"bias": 0.15, "noise_sd": 0.80, "respondents_min": 2, "respondents_max": 6},
    "self": {"bias": 0.60, "noise_sd": 0.60, "respondents_min": 1, "respondents_max": 1},
}

# Hidden levels: level[m, d] = general + deviation[d] + trend * m + random walk.
LEVEL_MODEL = {
    "general_sd": 0.8,
    "deviation_sd": 0.5,
    "manager_general_shift": 0.5,
    "trend_mean_per_month": 0.02,
    "trend_sd_per_month": 0.02,
    "walk_sd_per_month": 0.05,
}

# Fake progress: p = sigmoid(intercept + slope * mean(level[follow_up], level[closing])).
FAKE_PROGRESS = {"intercept": -2.0, "slope": -0.9, "dimensions": ("follow_up", "closing")}

# Which dimension drives each objection type's answer quality (non-planted types too).
ANSWER_SKILL: dict[str, str] = {
    "price": "price_negotiation",
    "competitor": "competitor_handling",
    "timing": "closing",
    "authority": "objection_handling",
    "need": "value_articulation",
    "trust": "objection_handling",
    "delivery": "product_knowledge",
}

REQUIRED_DIMENSIONS = (
    "questioning", "needs_discovery", "active_listening", "objection_handling", "competitor_handling",
    "value_articulation", "price_negotiation", "closing", "rapport", "product_knowledge", "follow_up",
)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def is_subsequence(needle: Sequence[str], haystack: Sequence[str]) -> bool:
    """True when ``needle`` appears in ``haystack`` in order (gaps allowed)."""
    remaining = iter(haystack)
    return all(item in remaining for item in needle)


def tracks_in_answer(objection_type: str, moves: Sequence[str]) -> list[str]:
    """Ids of the planted tracks (decoys included) that an answer uses."""
    return [
        track.track_id
        for track in PLANTED_TRACKS
        if track.objection_type == objection_type and is_subsequence(track.moves, moves)
    ]


def win_logit(features: dict[str, float]) -> float:
    """The true win logit of a deal from its feature dict (see FEATURE_DEFINITIONS)."""
    total = OUTCOME_COEFFICIENTS["intercept"]
    for name, value in features.items():
        total += coefficient(name) * value
    return total


def coefficient(feature: str) -> float:
    """The true coefficient of one feature name (``track:<id>``, ``move:<key>`` or a base one)."""
    if feature.startswith("track:"):
        return _track(feature.removeprefix("track:")).logit_effect
    if feature.startswith("move:"):
        return MOVE_EFFECTS[feature.removeprefix("move:")]
    return OUTCOME_COEFFICIENTS[feature]


def _track(track_id: str) -> PlantedTrack:
    for track in PLANTED_TRACKS:
        if track.track_id == track_id:
            return track
    raise KeyError(f"unknown planted track {track_id!r}")


def all_feature_names() -> list[str]:
    """Every feature of the outcome model, in a fixed order (for regressions)."""
    base = [name for name in OUTCOME_COEFFICIENTS if name != "intercept"]
    return base + [f"track:{t.track_id}" for t in PLANTED_TRACKS] + [f"move:{m}" for m in MOVE_EFFECTS]


def survey_score(level: float, source: str, respondents: int, rng: np.random.Generator) -> float:
    """One survey mean score in [1, 5]: monotone in the hidden level, noisy per source."""
    params = SURVEY_SOURCES[source]
    noise = rng.normal(0.0, params["noise_sd"] / math.sqrt(respondents))
    return 1.0 + 4.0 * sigmoid(SURVEY_SLOPE * (level + params["bias"]) + noise)


def check_taxonomy(stage_keys: Sequence[str], capabilities: Sequence[str], objections: Sequence[str],
                   moves: Sequence[str]) -> None:
    """Refuse a taxonomy that lacks a key the causal model is built on, naming what is missing."""
    needed = {
        "stages": (set(PIPELINE) | {WON_STAGE}) - set(stage_keys),
        "capability_dimensions": set(REQUIRED_DIMENSIONS) - set(capabilities),
        "objection_types": set(ANSWER_SKILL) - set(objections),
        "moves": {m for t in PLANTED_TRACKS for m in t.moves} - set(moves),
    }
    missing = {group: sorted(keys) for group, keys in needed.items() if keys}
    if missing:
        raise ValueError(f"the world generator needs these taxonomy keys, missing: {missing}")


def model_card() -> dict:
    """The causal model as JSON-ready data, for truth.json."""
    return {
        "outcome_model": {
            "link": "logit",
            "formula": "logit(p_win) = intercept + sum(coefficients[f] * features[f])",
            "intercept": OUTCOME_COEFFICIENTS["intercept"],
            "coefficients": {name: coefficient(name) for name in all_feature_names()},
            "feature_definitions": FEATURE_DEFINITIONS,
            "draw": "outcome_if_closed ~ Bernoulli(p_win) with the seeded generator",
        },
        "planted_tracks": [asdict(t) | {"track_id": t.track_id} for t in PLANTED_TRACKS],
        "track_use_model": {
            "formula": "p(use planted track | objection) = sigmoid(intercept + slope * level[skill])",
            **TRACK_USE,
            "decoy_use_probability_when_track_not_used": DECOY_USE_PROBABILITY,
        },
        "reaction_policy": {"order": list(REACTIONS), **{k: list(v) for k, v in REACTION_POLICY.items()}},
        "survey_model": {
            "formula": "score = 1 + 4 * sigmoid(slope * (level + bias) + eps), eps ~ N(0, noise_sd / sqrt(respondents))",
            "slope": SURVEY_SLOPE,
            "sources": SURVEY_SOURCES,
        },
        "level_model": {
            "scale": "z-scores (population mean 0, sd about 1); no clipping",
            "formula": "level[m, d] = general + deviation[d] + trend * m + random_walk[m, d]",
            **LEVEL_MODEL,
        },
        "fake_progress_model": {
            "formula": "p(fake) = sigmoid(intercept + slope * mean(level[d] for d in dimensions))",
            **{k: (list(v) if isinstance(v, tuple) else v) for k, v in FAKE_PROGRESS.items()},
        },
        "answer_skill": ANSWER_SKILL,
        "discount_use_model": {
            "formula": "p(offer_discount added | price answer without the planted track) = "
                       "sigmoid(intercept + slope * level[price_negotiation])",
            **DISCOUNT_USE,
        },
        "duration_model": DURATION_MODEL,
        "customer_quality_model": {
            "formula": "quality = sum(coef * (x - center) / scale) + industry_effect",
            "features": CUSTOMER_QUALITY,
            "industry_effects": INDUSTRY_EFFECTS,
        },
    }

# Customer quality = sum(coef * (x - center) / scale) + INDUSTRY_EFFECTS[industry], on the values
# written to customers.csv (x = log(employees), purchase_frequency, log1p(open_positions), sentiment).
CUSTOMER_QUALITY: dict[str, dict[str, float]] = {
    "log_employees": {"center": 5.7, "scale": 1.2, "coef": 0.45},
    "purchase_frequency": {"center": 6.0, "scale": 4.2, "coef": 0.35},
    "log1p_open_positions": {"center": 1.6, "scale": 1.1, "coef": 0.30},
    "sentiment": {"center": 0.1, "scale": 0.4, "coef": 0.35},
}
INDUSTRY_EFFECTS: dict[str, float] = {
    "manufacturing": 0.2, "logistics": 0.1, "retail": -0.2, "healthcare": 0.3,
    "financial_services": 0.0, "software": 0.4, "education": -0.3, "construction": -0.4,
}


def customer_quality(raw: dict[str, float], industry: str) -> float:
    """The hidden quality score from a customer's raw CRM features (see CUSTOMER_QUALITY)."""
    total = INDUSTRY_EFFECTS[industry]
    for name, params in CUSTOMER_QUALITY.items():
        total += params["coef"] * (raw[name] - params["center"]) / params["scale"]
    return total

# A rep who does not use the planted price track adds a discount with
# p = sigmoid(intercept + slope * level[price_negotiation]): weaker negotiators discount more.
DISCOUNT_USE = {"intercept": -1.2, "slope": -0.8}
# Stage durations: median_days * exp(speed_quality * quality + speed_skill * skill) * LogNormal(0, sigma);
# on top, a stage stalls outright (threshold * U(1.2, 3.0)) with
# p = sigmoid(stall_intercept + stall_follow_up * level[follow_up] + stall_quality * quality).
DURATION_MODEL = {
    "median_days": {"lead": 3.0, "qualification": 5.0, "needs_diagnosis": 7.0,
                    "solution_presentation": 6.0, "negotiation": 3.5},
    "sigma": 0.4,
    "speed_quality": -0.15,
    "speed_skill": -0.10,
    "stall_intercept": -3.2,
    "stall_follow_up": -0.4,
    "stall_quality": -0.3,
    "stall_factor_low": 1.2,
    "stall_factor_high": 3.0,
}
