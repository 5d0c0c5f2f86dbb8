"""Talk-track mining: which answers to which objections go with winning, with evidence.

Entry points: :func:`mine_talk_tracks` (one run, stored with reviews kept) and the review
functions of :mod:`.store` used by the CLI and the API.
"""

from talktrack.pipelines.mining.analysis import MiningOptions
from talktrack.pipelines.mining.mine import MiningError, mine_talk_tracks, options_from_settings
from talktrack.pipelines.mining.store import (
    ReviewError,
    TrackNotFound,
    get_track,
    list_tracks,
    review_track,
)

__all__ = ["MiningError", "MiningOptions", "ReviewError", "TrackNotFound", "get_track", "list_tracks",
           "mine_talk_tracks", "options_from_settings", "review_track"]
