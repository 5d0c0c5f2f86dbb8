"""The paths of a workspace: one directory holding everything a deployment owns.

The catalog database, audio and transcript artefacts, FAISS indexes and the MLflow
store all live under one root so that a user can back it up, move it or delete it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workspace:
    """Named locations under a workspace root; :meth:`ensure` creates them."""

    root: Path

    @classmethod
    def at(cls, root: Path | str) -> Workspace:
        return cls(Path(root).expanduser().resolve())

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.db"

    @property
    def catalog_url(self) -> str:
        return f"sqlite:///{self.catalog_path}"

    @property
    def audio_dir(self) -> Path:
        return self.root / "audio"

    @property
    def transcripts_dir(self) -> Path:
        return self.root / "transcripts"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def mlflow_dir(self) -> Path:
        return self.root / "mlflow"

    @property
    def models_dir(self) -> Path:
        """Locally trained small models (the moment detector) and the embedding cache."""
        return self.root / "models"

    @property
    def worlds_dir(self) -> Path:
        return self.root / "worlds"

    @property
    def voiceprints_dir(self) -> Path:
        return self.root / "voiceprints"

    def ensure(self) -> Workspace:
        for path in (self.root, self.audio_dir, self.transcripts_dir, self.index_dir, self.mlflow_dir):
            path.mkdir(parents=True, exist_ok=True)
        return self
