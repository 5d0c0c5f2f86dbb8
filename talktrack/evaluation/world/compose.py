"""Phrasings that are composed, not picked: choices inside a template and the way a
turn is dressed (a hedge or a name in front, a tag at the end, a filler, an English
word in a Chinese sentence).

A world of 44,000 utterances drawn from a few hundred fixed sentences teaches a
detector those sentences; composing them makes most utterances of a world distinct
while each keeps the act (and the objection type or move) it was planned with.

Template syntax: ``[a|b|]`` is one of ``a``, ``b`` or nothing, chosen at random; choices
nest (the innermost is resolved first) and sit beside ``{slot}`` fields, which are
filled afterwards by ``str.format_map``.
"""

from __future__ import annotations

import re

import numpy as np

_CHOICE = re.compile(r"\[([^\[\]]*)\]")
_SPACES = re.compile(r" {2,}")


def expand(template: str, rng: np.random.Generator) -> str:
    """Resolve every ``[a|b|...]`` choice of ``template``.

    >>> expand("It's [a bit|quite] [steep|pricey].", np.random.default_rng(0)) in {
    ...     "It's a bit steep.", "It's a bit pricey.", "It's quite steep.", "It's quite pricey."}
    True
    """
    while True:
        match = _CHOICE.search(template)
        if match is None:
            return _SPACES.sub(" ", template).replace(" ,", ",").replace(" .", ".").replace(" ?", "?")
        options = match.group(1).split("|")
        template = template[:match.start()] + options[int(rng.integers(len(options)))] + template[match.end():]


def pick(options: tuple[str, ...], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def pick_family(families: dict[str, tuple[str, ...]], weights: dict[str, float],
                rng: np.random.Generator) -> str:
    """A family name, drawn by ``weights`` (families without a weight share what is left equally)."""
    names = sorted(families)
    given = sum(weights.get(n, 0.0) for n in names)
    rest = [n for n in names if n not in weights]
    p = np.array([weights.get(n, max(0.0, 1.0 - given) / max(1, len(rest))) for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]
