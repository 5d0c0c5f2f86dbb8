"""The registry champion of a model, loaded once per version and re-resolved on use.

Resolving the ``champion`` alias is one small registry query (a few ms with the SQLite store);
loading a pyfunc is not, so the loaded model is cached by version and the alias is re-read at
most every ``serving.champion_ttl_s`` seconds (default 1 s). When someone promotes or rolls
back, requests after that interval see the new version and load it: no restart needed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.serving.heap import settle_heap
from talktrack.training import registry


@dataclass(frozen=True)
class LoadedModel:
    name: str
    version: str
    model: Any  # an mlflow.pyfunc.PyFuncModel

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """The pyfunc's predict, minus MLflow's per-call input-schema check when the model is one
        of our ``PythonModel``s: that check (column types against the signature) took about a
        third of a one-row predict, and callers pass the signature's columns as floats already
        (see ``align_to_model`` in the scoring route)."""
        python_model = self.python_model()
        if python_model is None:
            return self.model.predict(features)
        return python_model.predict(None, features)

    def python_model(self):
        """Our ``PythonModel`` inside the pyfunc, or None for another flavour."""
        from mlflow.exceptions import MlflowException

        try:
            return self.model.unwrap_python_model()
        except MlflowException:  # another flavour (e.g. a plain sklearn model): the pyfunc path
            return None


class ChampionCache:
    """``current()`` → the champion of ``model_name`` now; raises ``RegistryError`` when there is none."""

    def __init__(self, settings: Settings, workspace: Workspace, model_name: str) -> None:
        self.settings, self.workspace, self.model_name = settings, workspace, model_name
        self._loaded: LoadedModel | None = None
        self._client = None
        self._lock = threading.Lock()
        self._alias_lock = threading.Lock()
        self._alias: tuple[float, str | None] | None = None  # (looked up at, version)

    def champion_version(self) -> str | None:
        """The version the alias points at (None: not registered or no champion), as read at most
        ``serving.champion_ttl_s`` seconds ago."""
        now, seen = time.monotonic(), self._alias
        if seen is not None and now - seen[0] < self.settings.serving.champion_ttl_s:
            return seen[1]
        # one request looks the alias up; the others answer with the version seen until it is done
        if not self._alias_lock.acquire(blocking=seen is None):
            return seen[1]
        try:
            version = self._lookup_alias()
            self._alias = (time.monotonic(), version)
            return version
        finally:
            self._alias_lock.release()

    def loaded_now(self) -> LoadedModel | None:
        """The loaded champion when the alias was read less than ``champion_ttl_s`` ago and names
        it: what a request answered on the event loop may use without waiting. None otherwise;
        :meth:`current` then re-reads the alias (and loads a new version), in a thread."""
        seen, loaded = self._alias, self._loaded
        if seen is None or loaded is None or loaded.version != seen[1]:
            return None
        return loaded if time.monotonic() - seen[0] < self.settings.serving.champion_ttl_s else None

    def _lookup_alias(self) -> str | None:
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
                self._alias = (time.monotonic(), found)  # what was loaded is the alias as of now
                settle_heap()  # the model (and what loading it imported) stays: see serving.heap
            return self._loaded
