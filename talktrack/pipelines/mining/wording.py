"""How reps phrase a track: its answers grouped by meaning, and real exemplars to learn from.

Answers using one track are embedded (each in its language's space) and grouped by
average-linkage agglomerative clustering on cosine distance; a group is reported with
its size, the win rate of its deals and its most central answer. Exemplars are real
snippets, top sellers' won deals first, one per call, each with the objection and the
answer, their times, and an audio clip cut from the recording when there is one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
from sklearn.cluster import AgglomerativeClustering

from talktrack.models.audio import AudioError, decode_audio
from talktrack.models.embedding import EmbedderSet
from talktrack.pipelines.mining.episodes import DealRecord, Episode

CLUSTER_DISTANCE = 0.45   # average cosine distance at which two groups of answers stop merging
MAX_ANSWERS_CLUSTERED = 300
CLIP_PAD_S = 0.3


def wording_groups(episodes: list[Episode], deals: dict[str, DealRecord], embedders: EmbedderSet,
                   *, limit: int = 3, seed: int = 0) -> list[dict]:
    """The largest groups of similarly worded answers, per language space."""
    if not episodes:
        return []
    rng = np.random.default_rng(seed)
    if len(episodes) > MAX_ANSWERS_CLUSTERED:
        episodes = [episodes[i] for i in sorted(rng.choice(len(episodes), MAX_ANSWERS_CLUSTERED, replace=False))]
    texts = [e.answer_text for e in episodes]
    groups = []
    for positions, vectors in embedders.encode(texts, [e.language for e in episodes]).values():
        groups += _cluster(vectors, [episodes[i] for i in positions], deals)
    total = sum(g["answers"] for g in groups)
    for group in groups:
        group["share"] = round(group["answers"] / max(total, 1), 4)
    return sorted(groups, key=lambda g: -g["answers"])[:limit]


def _cluster(vectors: np.ndarray, episodes: list[Episode], deals: dict[str, DealRecord]) -> list[dict]:
    if len(episodes) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                         distance_threshold=CLUSTER_DISTANCE).fit_predict(vectors)
    groups = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        centroid = vectors[members].mean(axis=0)
        central = members[int(np.argmax(vectors[members] @ centroid))]
        outcomes = [deals[episodes[i].deal_id].status for i in members]
        closed = [o for o in outcomes if o in ("won", "lost")]
        groups.append({
            "answers": int(len(members)), "language": episodes[central].language,
            "win_rate": round(closed.count("won") / len(closed), 4) if closed else None,
            "example": episodes[central].answer_text, "example_call": episodes[central].call_id,
        })
    return groups


def pick_exemplars(episodes: list[Episode], deals: dict[str, DealRecord], top_sellers: set[str], count: int,
                   clips_dir: Path | None = None) -> list[dict]:
    """Up to ``count`` real snippets: won deals of top sellers first, then other won deals,
    one per call, alternating languages when both are there."""
    won = [e for e in episodes if deals[e.deal_id].status == "won"]
    ranked = sorted(won, key=lambda e: (e.rep_id not in top_sellers, -len(e.moves), e.call_id, e.objection.seq))
    chosen: list[Episode] = []
    seen_calls: set[str] = set()
    languages = sorted({e.language for e in ranked})
    while len(chosen) < count and ranked:
        wanted = languages[len(chosen) % len(languages)] if languages else None
        pick = next((e for e in ranked if e.call_id not in seen_calls and e.language == wanted), None) \
            or next((e for e in ranked if e.call_id not in seen_calls), None)
        if pick is None:
            break
        chosen.append(pick)
        seen_calls.add(pick.call_id)
    return [exemplar(e, deals[e.deal_id], e.rep_id in top_sellers, clips_dir) for e in chosen]


def exemplar(episode: Episode, deal: DealRecord, top_seller: bool, clips_dir: Path | None) -> dict:
    start, end = episode.objection.start_s, (episode.answer[-1].end_s if episode.answer else episode.objection.end_s)
    return {
        "call_id": episode.call_id, "channel": episode.channel, "deal_id": episode.deal_id, "rep_id": episode.rep_id,
        "top_seller": top_seller, "outcome": deal.status, "language": episode.language,
        "moves": list(episode.moves),
        "objection": {"text": episode.objection.text, "start_s": episode.objection.start_s,
                      "end_s": episode.objection.end_s},
        "answer": {"text": episode.answer_text, "start_s": episode.answer[0].start_s if episode.answer else None,
                   "end_s": end},
        "start_s": round(start, 3), "end_s": round(end, 3),
        "audio_clip": cut_clip(episode.audio_path, start, end, clips_dir, episode.call_id),
    }


def cut_clip(audio_path: str | None, start_s: float, end_s: float, clips_dir: Path | None,
             call_id: str) -> str | None:
    """Write the snippet as a 16 kHz WAV under ``clips_dir`` (once); None without a readable recording."""
    if not audio_path or clips_dir is None or not Path(audio_path).is_file():
        return None
    start_s, end_s = max(0.0, start_s - CLIP_PAD_S), end_s + CLIP_PAD_S
    path = clips_dir / f"{call_id}_{int(start_s * 1000)}_{int(end_s * 1000)}.wav"
    if path.is_file():
        return str(path)
    try:
        audio = decode_audio(audio_path)
    except AudioError:
        return None
    rate = audio.sample_rate
    clip = audio.samples[:, int(start_s * rate) : int(end_s * rate)].T
    clips_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.wav")
    soundfile.write(tmp, clip, rate, subtype="PCM_16")
    tmp.replace(path)
    return str(path)
