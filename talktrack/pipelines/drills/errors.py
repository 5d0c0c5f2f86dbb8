"""What a drill request can run into; ``serving/routes/drills.py`` maps each to an HTTP status."""

from __future__ import annotations


class DrillError(ValueError):
    """A drill request that cannot be done as asked (unknown scenario value, empty answer)."""


class DrillNotFound(LookupError):
    """No drill with that id."""


class DrillEnded(RuntimeError):
    """The drill has ended: it takes no more turns."""


class DrillNotReady(RuntimeError):
    """The corpus has nothing to drill on yet (no objections with answers, or none in a scenario)."""
