"""What the routes share: settings, workspace, catalog, metrics and the lazily loaded models.

Nothing here touches disk when constructed; the catalog is opened by the app's lifespan and
models load on their first use, so the service starts on an empty workspace.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

from talktrack.core.catalog import Catalog
from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace
from talktrack.serving.champion import ChampionCache
from talktrack.serving.metrics import HttpMetrics

CUSTOMER_SCORER = "talktrack-customer-scorer"  # talktrack.training.customer.MODEL_NAME
CAPABILITY_MODEL = "talktrack-capability"  # talktrack.training.capability.MODEL_NAME


@dataclass
class Service:
    settings: Settings
    workspace: Workspace
    metrics: HttpMetrics = field(default_factory=HttpMetrics)
    catalog: Catalog | None = None

    champions: dict[str, ChampionCache] = field(default_factory=dict)
    _shared: dict[str, object] = field(default_factory=dict, repr=False)
    _shared_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def shared(self, key: str, factory):
        """A service-lifetime object (a loaded model, a worker, a cache), made once by ``factory()``.

        Route modules keep what they load here instead of in globals, so two apps in one
        process (tests) never share state. Keys are namespaced by their module, e.g.
        ``"drills.engine"``.
        """
        if key not in self._shared:
            with self._shared_lock:
                if key not in self._shared:
                    self._shared[key] = factory()
        return self._shared[key]

    def made(self, key: str):
        """The shared object of ``key`` if it was made, else None (e.g. to stop only what started)."""
        return self._shared.get(key)

    def champion(self, model_name: str) -> ChampionCache:
        """The (cached) champion tracker of a registered model."""
        if model_name not in self.champions:
            self.champions[model_name] = ChampionCache(self.settings, self.workspace, model_name)
        return self.champions[model_name]

    @cached_property
    def utterances(self) -> IndexHolder:
        return IndexHolder(self)


class IndexHolder:
    """The utterance index, reopened when ``talktrack index build`` writes a new build record.

    The embedders are kept across reopenings (loading them is the slow part).
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self._index = None
        self._stamp: float | None = None
        self._lock = threading.Lock()

    @property
    def build_record(self):
        return self.service.workspace.index_dir / "utterances" / "build.json"

    def is_built(self) -> bool:
        return self.build_record.is_file()

    def get(self):
        """The current ``UtteranceIndex`` (its search raises ``IndexNotBuiltError`` when none is built)."""
        from talktrack.pipelines.semantic.index import UtteranceIndex

        stamp = self.build_record.stat().st_mtime if self.is_built() else None
        with self._lock:
            if self._index is None or stamp != self._stamp:
                s = self.service
                embedders = self._index.embedders if self._index is not None else None
                self._index = UtteranceIndex(s.catalog, s.settings, s.workspace, embedders=embedders)
                self._stamp = stamp
            return self._index
