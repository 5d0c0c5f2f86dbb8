"""What an id in a URL may be, declared once for every route.

A path segment reaches a route as any Unicode string: ``/v1/tracks/%C2%B2`` is ``"²"``, which
``str.isdigit()`` accepts and ``int()`` refuses, and ``99999999999999999999999`` overflows the
catalog's 64-bit integers; unchecked, both came back as 500s. So every path parameter has a
pattern: numeric ids are 1 to 18 ASCII digits (below 2**63), other ids ASCII letters and digits
with ``. _ : -`` inside (the CRM's external ids, job and drill ids), and a talk track is its
number or its key (``price:confirm_timeline>offer_installments``). Anything else is a 422 naming
the parameter, before the route runs.

    DealId = Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The deal's id.")
    def track(track_id: TrackRef, ...): ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
NUMBER_PATTERN = r"^[0-9]{1,18}$"
TRACK_PATTERN = r"^(?:[0-9]{1,18}|[a-z][a-z0-9_]*:[a-z0-9_>]+)$"

TrackRef = Annotated[str, Path(min_length=1, max_length=200, pattern=TRACK_PATTERN,
                               description="The track's number, or its key (objection:move>move).")]
