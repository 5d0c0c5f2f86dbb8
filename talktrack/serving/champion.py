"""The registry champion of a model, loaded once per version and re-resolved on every use.

Resolving the ``champion`` alias is one small registry query; loading a pyfunc is not, so
the loaded model is cached by version. When someone promotes or rolls back, the next request
sees the new version and loads it: no restart needed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.training import registry


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    model: Any  # an mlflow.pyfunc.PyFuncModel


class ChampionCache:
    """``current()`` → the champion of ``model_name`` now; raises ``RegistryError`` when there is none."""

    def __init__(self, settings: Settings, workspace: Workspace, model_name: str) -> None:
        self.settings, self.workspace, self.model_name = settings, workspace, model_name
        self._loaded: LoadedModel | None = None
        self._client = None
        self._lock = threading.Lock()

    def champion_version(self) -> str | None:
        """The version the alias points at now (None: not registered or no champion)."""
        from mlflow.exceptions import MlflowException

        if self._client is None:
            self._client = registry.open_tracking(self.settings, self.workspace)
        try:
            return str(self._client.get_model_version_by_alias(self.model_name, registry.CHAMPION).version)
        except MlflowException:
            return None

    def current(self) -> LoadedModel:
        version = self.champion_version()
        loaded = self._loaded
        if loaded is not None and loaded.version == version:
            return loaded
        with self._lock:
            if self._loaded is None or self._loaded.version != version:
                # raises RegistryError (-> 409) when the model or its champion is missing
                model, found = registry.load_champion(self.settings, self.workspace, self.model_name)
                self._loaded = LoadedModel(self.model_name, found, model)
            return self._loaded
