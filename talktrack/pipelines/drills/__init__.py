"""Virtual-customer drills: the drill bank built once from the catalog, and the drill lifecycle.

A drill is a practice conversation of one rep with a virtual customer of a scenario
(objection type, persona, language). One job per module:

- :mod:`.book`: the reply examples and personas (``drills.file``, default the bundled
  ``configs/drills.yaml``); the tuning knobs are ``settings.drills``;
- :mod:`.corpus`: what is read from the catalog, once: objection episodes (customer
  objection -> rep answer moves, via the mining episode reader), how the customer replied
  next, and the talk tracks;
- :mod:`.bank`: the :class:`DrillBank` built from it: the learned customer policy, real
  customer lines to draw from, and per (type, language) the reference answers (top sellers'
  real answers that follow the best approved track, else the best mined one, else all);
- :mod:`.engine`: :class:`DrillEngine` runs drills (start, turn, end, list, get) and stores
  them in the ``drills``/``drill_turns`` tables;
- :mod:`.records`: a drill as the API answers it, and its summary;
- :mod:`.errors`: what a request can run into (the routes map each to a status).

Example::

    engine = DrillEngine(catalog, settings, workspace, load_drill_book(settings.drills))
    drill = engine.start("price", "skeptical", "en", rep="REP-001", team="TEAM-01", actor="rep-key")
    turn = engine.turn(drill["drill_id"], "I understand. When do you need it running?")
"""

from talktrack.pipelines.drills.bank import BankBuilder, DrillBank, LinePool, answer_item, best_track, shown_answers
from talktrack.pipelines.drills.book import DrillBook, book_path, load_drill_book
from talktrack.pipelines.drills.corpus import Corpus, read_corpus, read_tracks, tracks_stamp
from talktrack.pipelines.drills.engine import MAX_AUDIO_S, DrillEngine
from talktrack.pipelines.drills.errors import DrillEnded, DrillError, DrillNotFound, DrillNotReady
from talktrack.pipelines.drills.records import advice, drill_dict, summarise

__all__ = ["MAX_AUDIO_S", "BankBuilder", "Corpus", "DrillBank", "DrillBook", "DrillEnded", "DrillEngine", "DrillError",
           "DrillNotFound", "DrillNotReady", "LinePool", "advice", "answer_item", "best_track", "book_path",
           "drill_dict", "load_drill_book", "read_corpus", "read_tracks", "shown_answers", "summarise",
           "tracks_stamp"]
