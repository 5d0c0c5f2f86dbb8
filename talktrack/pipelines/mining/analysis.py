"""Per objection type: which answer patterns go with winning, adjusted for who the rep is.

For one objection type the unit is a closed deal in which a customer raised it: did any
answer to it use the pattern, and was the deal won? Candidates are patterns with enough
support on both sides; the reported tracks are those a forward selection keeps under a
Bonferroni-corrected threshold on the rep-adjusted effect (see :mod:`.stats`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from talktrack.pipelines.mining.context import context_matrix
from talktrack.pipelines.mining.episodes import DealRecord
from talktrack.pipelines.mining.patterns import (
    Pattern,
    candidate_patterns,
    deal_patterns,
    is_subsequence,
    pattern_key,
)
from talktrack.pipelines.mining.stats import (
    bonferroni_z,
    difference_interval,
    fit_adjusted_logit,
    forward_select,
    wilson_interval,
)


@dataclass(frozen=True)
class MiningOptions:
    """One mining run's knobs, built by :func:`~talktrack.pipelines.mining.options_from_settings` from
    ``settings.semantic.mining`` (the one place their defaults and meaning are written), with any
    command-line overrides; echoed in the stored run."""

    top_sellers: int
    min_support_deals: int
    max_pattern_length: int
    confidence: float
    exemplars: int
    max_tracks_per_type: int
    rep_penalty: float
    extension_share: float


@dataclass
class PatternStats:
    key: str
    objection_type: str
    moves: Pattern
    support_deals: int
    support_episodes: int
    wins_used: int
    wins_other: int
    deals_other: int
    lift: float
    lift_ci: tuple[float, float]
    effect: float
    effect_ci: tuple[float, float]
    z: float
    win_rate_used_ci: tuple[float, float]
    top_won_using: int
    top_won_total: int
    other_using: int
    other_total: int
    selected: bool = False

    @property
    def win_rate_used(self) -> float:
        return self.wins_used / max(self.support_deals, 1)

    @property
    def win_rate_other(self) -> float:
        return self.wins_other / max(self.deals_other, 1)

    @property
    def share_top_won(self) -> float:
        return self.top_won_using / max(self.top_won_total, 1)

    @property
    def share_other(self) -> float:
        return self.other_using / max(self.other_total, 1)

    def as_dict(self) -> dict:
        return {
            "key": self.key, "objection_type": self.objection_type, "moves": list(self.moves),
            "support_deals": self.support_deals, "support_episodes": self.support_episodes,
            "win_rate_used": round(self.win_rate_used, 4), "win_rate_used_ci": _round(self.win_rate_used_ci),
            "win_rate_other": round(self.win_rate_other, 4), "deals_other": self.deals_other,
            "lift": round(self.lift, 4), "lift_ci": _round(self.lift_ci),
            "adjusted_effect_logit": round(self.effect, 4), "adjusted_effect_ci": _round(self.effect_ci),
            "z": round(self.z, 2),
            "share_of_top_sellers_won_deals": round(self.share_top_won, 4),
            "top_sellers_won_deals": self.top_won_total,
            "share_of_other_deals": round(self.share_other, 4), "other_deals": self.other_total,
            "selected": self.selected,
        }


@dataclass
class TypeAnalysis:
    objection_type: str
    deals: int
    episodes: int
    candidates: list[PatternStats] = field(default_factory=list)
    tracks: list[PatternStats] = field(default_factory=list)      # selected, positive effect
    avoid: list[PatternStats] = field(default_factory=list)       # selected, negative effect
    threshold_z: float = 0.0


@dataclass(frozen=True)
class TypeData:
    """One objection type's closed deals, their answers, the patterns each used, and the candidates."""

    objection_type: str
    rows: list[DealRecord]
    answers: list[list[tuple[str, ...]]]
    used: list[set[Pattern]]
    patterns: list[Pattern]


def type_data(objection_type: str, deals: list[DealRecord], options: MiningOptions) -> TypeData:
    rows = [d for d in deals if d.closed and any(e.objection_type == objection_type for e in d.episodes)]
    answers = [[e.moves for e in d.episodes if e.objection_type == objection_type] for d in rows]
    used = [deal_patterns(a, options.max_pattern_length) for a in answers]
    return TypeData(objection_type, rows, answers, used, candidate_patterns(used, options.min_support_deals))


def analyse_type(data: TypeData, top_sellers: set[str], options: MiningOptions,
                 family_size: int | None = None) -> TypeAnalysis:
    """Candidates, univariate adjusted stats and the selected tracks for one objection type.

    ``family_size``: the number of patterns tested in the whole run (all types); the
    significance threshold is Bonferroni-corrected for it, so the chance of reporting any
    track with no effect stays below 1 - confidence for the run, not per type.
    """
    objection_type, rows, answers, used, patterns = (data.objection_type, data.rows, data.answers, data.used,
                                                     data.patterns)
    analysis = TypeAnalysis(objection_type, len(rows), sum(len(a) for a in answers))
    if not patterns:
        return analysis
    matrix = np.array([[p in u for p in patterns] for u in used], dtype=float)  # shape: (deals, patterns)
    won = np.array([d.status == "won" for d in rows], dtype=float)
    groups = _codes([d.rep_id for d in rows])
    covariates = context_matrix([d.context for d in rows])
    top_won = np.array([d.status == "won" and d.rep_id in top_sellers for d in rows])
    all_answers = [moves for deal_answers in answers for moves in deal_answers]
    episodes_using = [sum(1 for moves in all_answers if is_subsequence(p, moves)) for p in patterns]
    analysis.threshold_z = bonferroni_z(options.confidence, max(family_size or 0, len(patterns)))
    analysis.candidates = [
        _stats(objection_type, p, j, matrix, won, groups, covariates, top_won, episodes_using[j], options)
        for j, p in enumerate(patterns)
    ]
    chosen = forward_select(matrix, groups, won, covariates=covariates,
                            z_threshold=analysis.threshold_z, max_selected=options.max_tracks_per_type,
                            group_penalty=options.rep_penalty)
    chosen = prefer_extensions(chosen, patterns, matrix, options.extension_share)
    _mark_selected(analysis, chosen, matrix, won, groups, covariates, options)
    return analysis


def prefer_extensions(chosen: list[int], patterns: list[Pattern], matrix: np.ndarray, share: float) -> list[int]:
    """Replace each chosen pattern by its longest extension used in >= ``share`` of its deals."""
    support = matrix.sum(axis=0)
    result: list[int] = []
    for column in chosen:
        extensions = [j for j, p in enumerate(patterns)
                      if len(p) > len(patterns[column]) and is_subsequence(patterns[column], p)
                      and support[j] >= share * support[column]]
        best = max(extensions, key=lambda j: (len(patterns[j]), support[j]), default=column)
        if best not in result:
            result.append(best)
    return result


def _stats(objection_type: str, pattern: Pattern, column: int, matrix: np.ndarray, won: np.ndarray,
           groups: np.ndarray, covariates: np.ndarray, top_won: np.ndarray, episodes: int, options: MiningOptions) -> PatternStats:
    using = matrix[:, column] > 0
    wins_used, n_used = int(won[using].sum()), int(using.sum())
    wins_other, n_other = int(won[~using].sum()), int((~using).sum())
    fit = fit_adjusted_logit(matrix[:, [column]], groups, won, covariates=covariates,
                             group_penalty=options.rep_penalty)
    return PatternStats(
        key=pattern_key(objection_type, pattern), objection_type=objection_type, moves=pattern,
        support_deals=n_used, support_episodes=episodes, wins_used=wins_used, wins_other=wins_other,
        deals_other=n_other,
        lift=wins_used / max(n_used, 1) - wins_other / max(n_other, 1),
        lift_ci=difference_interval(wins_used, n_used, wins_other, n_other, options.confidence),
        effect=float(fit.coef[0]), effect_ci=fit.interval(0, options.confidence), z=float(fit.z()[0]),
        win_rate_used_ci=wilson_interval(wins_used, n_used, options.confidence),
        top_won_using=int((using & top_won).sum()), top_won_total=int(top_won.sum()),
        other_using=int((using & ~top_won).sum()), other_total=int((~top_won).sum()),
    )


def _mark_selected(analysis: TypeAnalysis, chosen: list[int], matrix: np.ndarray, won: np.ndarray,
                   groups: np.ndarray, covariates: np.ndarray, options: MiningOptions) -> None:
    """Re-fit the chosen patterns jointly; their joint effects are the ones reported."""
    if not chosen:
        return
    fit = fit_adjusted_logit(matrix[:, chosen], groups, won, covariates=covariates,
                             group_penalty=options.rep_penalty)
    for position, column in enumerate(chosen):
        stats = analysis.candidates[column]
        stats.selected = True
        stats.effect, stats.z = float(fit.coef[position]), float(fit.z()[position])
        stats.effect_ci = fit.interval(position, options.confidence)
        (analysis.tracks if stats.effect > 0 else analysis.avoid).append(stats)


def _codes(values: list[str]) -> np.ndarray:
    index = {v: i for i, v in enumerate(sorted(set(values)))}
    return np.array([index[v] for v in values], dtype=int)


def _round(pair: tuple[float, float]) -> list[float]:
    return [round(pair[0], 4), round(pair[1], 4)]
