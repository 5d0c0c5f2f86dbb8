"""Utterances grouped by their text: one vector per distinct text in the utterance index.

Calls repeat phrases word for word (greetings, backchannels, templated answers): on a
9000-call generated corpus 105,164 English utterances held only 22,355 distinct texts, and that
many identical vectors break an HNSW graph (recall@10 vs exact 0.83-0.90 whatever the
efSearch, 0.994 on the distinct vectors). So :mod:`talktrack.pipelines.semantic.index` stores
one vector per :class:`TextGroups` group and expands each group a search finds into its
utterances. A text is known by :func:`text_fingerprint`, which tells a changed utterance under
a reused id; :func:`content_units` says whether a text says enough to be indexed at all.
Numpy and the standard library only: no catalog, no model.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import numpy as np

_UNITS = re.compile(r"[A-Za-z0-9]+|[\u3400-\u9fff\uf900-\ufaff]")


def content_units(text: str) -> int:
    """Latin words/numbers plus CJK characters: the measure of whether a text says anything."""
    return len(_UNITS.findall(text))


def text_fingerprint(text: str) -> int:
    """A signed 64-bit hash of the text: tells a changed utterance under a reused id."""
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:8], "little", signed=True)


class TextGroups:
    """The utterances of one space grouped by text fingerprint; a group id is the FAISS id of its text's vector.

    Built from (or saved as) three aligned arrays: utterance ids, text fingerprints, group ids.
    Builds change it one utterance at a time (:meth:`add`, :meth:`remove`, then :meth:`prune`);
    searches use the sorted array view (:meth:`groups_of`, :meth:`expand`).

    Example::

        groups = TextGroups()
        groups.add(7, text_fingerprint("Thanks, bye.")), groups.add(9, text_fingerprint("Thanks, bye."))
        # -> (0, None): the first copy created group 0 (embed it), the second joined it
    """

    def __init__(self, ids=(), fingerprints=(), groups=()) -> None:
        self.members: dict[int, tuple[int, int]] = {  # utterance id -> (text fingerprint, group id)
            int(u): (int(f), int(g)) for u, f, g in zip(ids, fingerprints, groups, strict=True)}
        self._by_text = {fp: group for fp, group in self.members.values()}
        self._sizes = Counter(group for _, group in self.members.values())
        self._next = max(self._sizes, default=-1) + 1
        self._view: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        """The number of groups (each holds one vector in the index)."""
        return len(self._sizes)

    def group_ids(self) -> np.ndarray:
        return np.fromiter(self._sizes, dtype=np.int64, count=len(self._sizes))

    def utterance_ids(self) -> np.ndarray:
        return np.fromiter(self.members, dtype=np.int64, count=len(self.members))

    def to_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(utterance ids, fingerprints, group ids): what the manifest stores."""
        n = len(self.members)
        fingerprints = np.fromiter((f for f, _ in self.members.values()), dtype=np.int64, count=n)
        groups = np.fromiter((g for _, g in self.members.values()), dtype=np.int64, count=n)
        return self.utterance_ids(), fingerprints, groups

    # ----------------------------------------------------------------- build
    def add(self, uid: int, fingerprint: int) -> int | None:
        """Put ``uid`` in the group of its text; the new group's id when the text had none (embed it), else None."""
        group = self._by_text.get(fingerprint)
        created = group is None
        if created:
            group, self._next = self._next, self._next + 1
            self._by_text[fingerprint] = group
        self.members[uid] = (fingerprint, group)
        self._sizes[group] += 1
        self._view = None
        return group if created else None

    def remove(self, uid: int) -> None:
        """Take ``uid`` out of its group; an emptied group lives on until :meth:`prune` (a new copy may refill it)."""
        _, group = self.members.pop(uid)
        self._sizes[group] -= 1
        self._view = None

    def prune(self) -> list[int]:
        """Drop the groups left empty and return their ids: their vectors must leave the index."""
        empty = [group for group, size in self._sizes.items() if size == 0]
        for group in empty:
            del self._sizes[group]
        self._by_text = {fp: group for fp, group in self._by_text.items() if group in self._sizes}
        return empty

    # ---------------------------------------------------------------- search
    def _sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """(utterance ids, group ids) ordered by group, then utterance id."""
        if self._view is None:
            uids, _, groups = self.to_arrays()
            order = np.lexsort((uids, groups))
            self._view = uids[order], groups[order]
        return self._view

    def groups_of(self, utterance_ids: np.ndarray) -> np.ndarray:
        """The groups holding at least one of ``utterance_ids`` (ids not indexed are ignored), sorted."""
        uids, groups = self._sorted()
        return np.unique(groups[np.isin(uids, utterance_ids)])

    def expand(self, group_ids: np.ndarray, scores: np.ndarray, k: int,
               allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """``(utterance id, score)`` of the found groups' members (only ``allowed`` ones when given),
        best score first, then by utterance id; the first ``k``.

        ``group_ids``/``scores``: one FAISS result row (-1 marks an empty place).
        """
        uids, groups = self._sorted()
        allowed = None if allowed is None else np.unique(allowed)
        found: list[tuple[int, float]] = []
        ranked = sorted((-float(s), int(uids[np.searchsorted(groups, g)]), int(g))
                        for g, s in zip(group_ids, scores, strict=True) if g >= 0)
        for negative, _, group in ranked:
            begin, end = np.searchsorted(groups, [group, group + 1])
            members = uids[begin:end]
            if allowed is not None:
                members = members[_contains(allowed, members)]
            found.extend((int(uid), -negative) for uid in members[: k - len(found)])
            if len(found) >= k:
                break
        return found


def _contains(sorted_values: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Which ``items`` occur in ``sorted_values`` (binary search: a filter may allow 100k ids)."""
    at = np.minimum(np.searchsorted(sorted_values, items), max(len(sorted_values) - 1, 0))
    return (sorted_values[at] == items) if len(sorted_values) else np.zeros(len(items), dtype=bool)
