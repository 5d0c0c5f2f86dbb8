"""What an answer may carry: other reps' calls only as far as the caller may read them, and no server paths.

Talk-track exemplars, drills' top-seller answers and coaching examples quote real calls. Their
words are the coaching material every rep is meant to learn from, so they stay; but who said them
(call, deal, rep, customer) and the recording are shown only to a caller who may read that call
(:class:`talktrack.serving.access.Access`). Absolute server paths never leave the service: a clip
becomes the API URL that serves it, and error texts keep only file names.

Example::

    payload = redact_calls(Access(svc.catalog, caller), get_track(svc.catalog, 3))
    message = public_text("cannot decode /srv/tt/audio/ab12.wav: bad header")  # "cannot decode ab12.wav: ..."
"""

from __future__ import annotations

import re
from typing import Any

from talktrack.serving.access import Access

# Keys that say whose a quoted call is, or give its recording.
IDENTIFYING = frozenset({"call_id", "deal_id", "rep_id", "rep", "customer_id", "audio_clip", "audio_clip_url",
                         "audio_url"})
OTHER_CALL = "another rep's call"
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s'\"/:]+/)+([^\s'\"/:,;)]+)")


def redact_calls(access: Access, data: Any) -> Any:
    """``data`` (JSON-like) with every dict that quotes a call the caller may not read stripped of
    :data:`IDENTIFYING` keys (``source`` says it is another rep's), and every ``audio_clip`` path
    replaced by an ``audio_url`` of the API."""
    readable = access.readable_calls(_call_ids(data))
    return _rewrite(data, readable)


def public_text(text: str | None) -> str | None:
    """An error text without absolute server paths (each replaced by its file name)."""
    if not text:
        return text
    return _ABSOLUTE_PATH.sub(lambda match: match.group(1), text)


def _call_ids(data: Any) -> set[str]:
    found: set[str] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("call_id"), str):
                found.add(item["call_id"])
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def _rewrite(data: Any, readable: set[str]) -> Any:
    if isinstance(data, list | tuple):
        return [_rewrite(item, readable) for item in data]
    if not isinstance(data, dict):
        return data
    out = {key: _rewrite(value, readable) for key, value in data.items()}
    call_id = out.get("call_id")
    if isinstance(call_id, str) and call_id not in readable:
        return {key: value for key, value in out.items() if key not in IDENTIFYING} | {"source": OTHER_CALL}
    if "audio_clip" in out:
        clip = out.pop("audio_clip")
        out["audio_url"] = _clip_url(out) if clip and isinstance(call_id, str) else None
    return out


def _clip_url(item: dict) -> str:
    start, end = item.get("start_s"), item.get("end_s")
    span = f"?start={start:.2f}&end={end:.2f}" if isinstance(start, int | float) and isinstance(end, int | float) else ""
    return f"/v1/calls/{item['call_id']}/audio{span}"
