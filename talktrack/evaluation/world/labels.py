"""Generated moment labels: per-sentence objection and move labels read from a world's truth.

This is how "generated labels" reach the moment model: a world of one seed is exported to
JSONL and trained on; evaluation grades on a world of another seed.

Alignment (a rep's answer renders one sentence per move, sometimes two): a move utterance
is used only when its sentence count equals its move count, pairing them in order; the
others (about 1 in 20) are left out rather than guessed. Objection utterances label every
sentence with their type, except those opened by a "one more thing" lead-in (the lead-in
is not an objection and shares a sentence with it), which are left out. The rep's closing
next-step proposal (act ``next_step``) is a genuine next-step proposal in words but not an
answer to an objection, so it is left out too, neither positive nor negative. Every other
utterance's sentences are ``none`` of the kind its role carries (customer: objection, rep: move).

Objection and move sentences also carry the phrasing family they were written in (an
objection said directly, indirectly, hedged or as a question; a move said plainly or
loosely), so an evaluation can train on some families and grade on the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from talktrack.models.moments.sentences import split_sentences

NONE = "none"


@dataclass(frozen=True)
class TruthUtterance:
    call_id: str
    index: int
    role: str
    text: str
    language: str
    labels: dict


@dataclass(frozen=True)
class TruthSentence:
    call_id: str
    utterance: int
    sentence: int
    text: str
    language: str
    kind: str
    label: str
    family: str = ""  # the phrasing family of an objection or move sentence; "" for none


def load_truth(world_dir: Path) -> dict:
    path = Path(world_dir) / "truth.json"
    if not path.is_file():
        raise FileNotFoundError(f"world {world_dir}: truth.json not found (is it a generated world?)")
    return json.loads(path.read_text(encoding="utf-8"))


def truth_utterances(world_dir: Path, truth: dict | None = None, call_ids=None) -> Iterator[TruthUtterance]:
    """Every utterance of the world's transcripts with its act labels from the truth."""
    world_dir = Path(world_dir)
    truth = truth or load_truth(world_dir)
    for call_id in call_ids if call_ids is not None else sorted(truth["calls"]):
        transcript = json.loads((world_dir / "transcripts" / f"{call_id}.json").read_text(encoding="utf-8"))
        for index, (utt, labels) in enumerate(zip(transcript["utterances"], truth["calls"][call_id]["utterances"],
                                                  strict=True)):
            language = utt.get("language") or transcript.get("language", "en")
            yield TruthUtterance(call_id, index, labels["speaker_role"], utt["text"], language, labels)


def sentence_labels(utterance: TruthUtterance) -> list[TruthSentence]:
    """The labelled sentences of one utterance (empty when it is left out; see the module doc)."""
    sentences = split_sentences(utterance.text)
    act, labels = utterance.labels["act"], utterance.labels
    kind = "objection" if utterance.role == "customer" else "move"
    families = [""] * len(sentences)
    if act == "objection":
        if labels.get("reaction_to_previous") == "new_objection":
            return []
        targets = [labels["objection_type"]] * len(sentences)
        families = [labels.get("family", "")] * len(sentences)
    elif act == "move":
        if len(labels["moves"]) != len(sentences):
            return []
        targets = list(labels["moves"])
        families = list(labels.get("families", families))
    elif act == "next_step" and utterance.role == "rep":
        return []
    else:
        targets = [NONE] * len(sentences)
    return [TruthSentence(utterance.call_id, utterance.index, s.index, s.text, utterance.language, kind, target,
                          family)
            for s, target, family in zip(sentences, targets, families, strict=True)]


def export_labels(world_dir: Path | str, out_path: Path | str, max_per_label: int | None = None,
                  seed: int = 0) -> int:
    """Write one JSONL line per labelled sentence: {text, language, kind, label, source[, family]};
    return the count.

    ``max_per_label`` caps each (kind, label, language) group by a seeded random sample (``none``
    outnumbers everything else); duplicates of the same text and label are written once.
    """
    groups: dict[tuple[str, str, str], dict[str, TruthSentence]] = {}
    for utterance in truth_utterances(Path(world_dir)):
        for s in sentence_labels(utterance):
            groups.setdefault((s.kind, s.label, s.language), {}).setdefault(s.text, s)
    rng = np.random.default_rng(seed)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out_path.open("w", encoding="utf-8") as out:
        for key in sorted(groups):
            items = list(groups[key].values())
            if max_per_label is not None and len(items) > max_per_label:
                items = [items[i] for i in sorted(rng.choice(len(items), max_per_label, replace=False))]
            for s in items:
                row = {"text": s.text, "language": s.language, "kind": s.kind, "label": s.label, "source": "generated"}
                out.write(json.dumps(row | ({"family": s.family} if s.family else {}), ensure_ascii=False) + "\n")
                count += 1
    return count


def labels_from_new_world(folder: Path | str, seed: int, sizes: dict) -> Path:
    """``folder/labels.jsonl``: the generated labels of a world of ``seed`` written into ``folder``
    (both made once and reused). Training a detector on another seed's world than the one it is
    graded on or used for keeps the graded calls unseen."""
    from talktrack.evaluation.world.generate import generate_world
    from talktrack.evaluation.world.spec import WorldSpec

    folder = Path(folder)
    labels = folder / "labels.jsonl"
    if not labels.is_file():
        generate_world(WorldSpec(seed=seed, **sizes), folder)
        export_labels(folder, labels)
    return labels
