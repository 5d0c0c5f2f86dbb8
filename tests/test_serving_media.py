"""Range parsing and WAV clipping of :mod:`talktrack.serving.media`, on real bytes and a real WAV file.

The HTTP round trip is tested in ``test_serving_calls.py``; these are the RFC 9110 corners that
one upload cannot reach (a range that is ignored rather than refused, a suffix longer than the
body) and the clip limit, without the served world.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from talktrack.serving.errors import ApiError
from talktrack.serving.media import byte_range, bytes_response, clip_wav, file_bytes


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("bytes=0-99", (0, 99)),
    ("bytes=900-", (900, 999)),
    ("bytes=900-5000", (900, 999)),        # a last byte past the end is the end
    ("bytes=-100", (900, 999)),
    ("bytes=-5000", (0, 999)),             # a suffix longer than the body is all of it
    ("bytes=10-5", None),                  # not a valid range: ignored, the whole body
    ("bytes=0-1,5-9", None),               # several ranges: ignored (one is all we serve)
    ("items=0-9", None),
    ("bytes=-", None),
])
def test_a_single_byte_range_is_served_and_anything_else_is_the_whole(header, expected):
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=-0"])
def test_an_unsatisfiable_range_is_a_416_that_names_the_size(header):
    with pytest.raises(ApiError) as caught:
        byte_range(header, 1000)
    assert caught.value.status == 416 and caught.value.headers["Content-Range"] == "bytes */1000"


def test_file_bytes_reads_exactly_the_inclusive_span(tmp_path):
    path = tmp_path / "blob.bin"
    data = bytes(range(256)) * 40_000          # 10 MB: more than one read chunk
    path.write_bytes(data)
    assert b"".join(file_bytes(path, 5, 9)) == data[5:10]
    assert b"".join(file_bytes(path, 1_000_000, len(data) - 1)) == data[1_000_000:]


@pytest.fixture()
def tone(tmp_path):
    rate = 8000
    path = tmp_path / "tone.wav"
    t = np.arange(4 * rate) / rate             # 4 s
    sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * t), rate, subtype="PCM_16")
    return path, rate


def test_a_clip_holds_the_asked_samples_at_the_files_rate(tone):
    path, rate = tone
    samples, clip_rate = sf.read(io.BytesIO(clip_wav(path, 1.0, 2.5, max_clip_s=60)))
    original, _ = sf.read(path, start=rate, stop=int(2.5 * rate))
    assert clip_rate == rate and len(samples) == len(original)
    assert np.abs(samples - original).max() < 1e-3
    to_end, _ = sf.read(io.BytesIO(clip_wav(path, 3.0, None, max_clip_s=60)))
    assert len(to_end) == rate                  # no end: up to the end of the recording


@pytest.mark.parametrize(("start", "end", "limit", "word"), [
    (5.0, None, 60, "past the end"),
    (2.0, 1.0, 60, "after start"),
    (0.0, 4.0, 3, "max_clip_s"),
])
def test_an_empty_late_or_too_long_clip_is_a_422_that_says_why(tone, start, end, limit, word):
    with pytest.raises(ApiError) as caught:
        clip_wav(tone[0], start, end, max_clip_s=limit)
    assert caught.value.status == 422 and word in str(caught.value)


def test_a_ranged_clip_is_a_206_with_its_content_range():
    response = bytes_response(b"0123456789", "audio/wav", "bytes=2-4", "clip.wav")
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 2-4/10" and response.headers["content-length"] == "3"
