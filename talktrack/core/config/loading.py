"""Reading the settings: the embedded defaults, a user YAML and ``TALKTRACK_*`` variables, merged and validated."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from talktrack.core.config.base import ConfigError
from talktrack.core.config.settings import Settings

ENV_PREFIX = "TALKTRACK_"


def default_config_path() -> Path:
    return Path(str(resources.files("talktrack.configs") / "default.yaml"))


def load_settings(
    config_file: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge defaults, a user YAML, ``TALKTRACK_*`` variables and overrides; validate."""
    merged = _read_yaml(default_config_path())
    if config_file is not None:
        merged = _deep_merge(merged, _read_yaml(Path(config_file)))
    merged = _deep_merge(merged, _env_overrides(os.environ if environ is None else environ))
    if overrides:
        merged = _deep_merge(merged, dict(overrides))
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, merged)) from None
    _refuse_unread_drills_file(settings)
    return settings


def _refuse_unread_drills_file(settings: Settings) -> None:
    """``<workspace>/drills.yaml`` used to replace the drill settings on its own; it is no longer read
    (drills are part of this tree), so a deployment that has one is told where its content goes
    rather than silently losing its personas or generator."""
    stray = settings.workspace / "drills.yaml"
    if not stray.is_file():
        return
    named = Path(settings.drills.file).resolve() if settings.drills.file else None
    if named != stray.resolve():
        raise ConfigError(
            f"{stray}: a workspace drills.yaml is no longer read on its own. Put its languages, scoring, "
            f"policy and generator under `drills:` in your --config file (or TALKTRACK_DRILLS__... variables), "
            f"and its replies and personas in a file named by drills.file (e.g. drills.file: {stray})"
        )


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file {path}: not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping of keys, not {type(data).__name__}")
    return data


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``TALKTRACK_MODELS__TRANSCRIBER__DEVICE=cuda`` → ``{"models": {"transcriber": {"device": "cuda"}}}``."""
    tree: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _parse_scalar(raw)
    return tree


def _parse_scalar(raw: str) -> Any:
    try:
        return yaml.safe_load(raw) if raw != "" else None
    except yaml.YAMLError:
        return raw


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        value = _lookup(data, error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling; see talktrack/configs/default.yaml)"
        shown = "" if value is _MISSING else f" = {value!r}"
        lines.append(f"{key}{shown}: {message}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


_MISSING = object()


def _lookup(data: Any, loc: tuple[Any, ...]) -> Any:
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return node
