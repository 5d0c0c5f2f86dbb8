"""Settings: the embedded defaults, a user YAML and ``TALKTRACK_*`` variables, validated.

Layers, later wins: ``talktrack/configs/default.yaml`` → ``--config FILE`` →
environment (``TALKTRACK_WORKSPACE``, ``TALKTRACK_CATALOG__URL``; nested keys joined
by ``__``; values parsed as YAML scalars) → explicit overrides (``--workspace``).

An invalid value fails at start with a :class:`ConfigError` that names the key,
the value given and what is accepted, e.g.::

    >>> load_settings(overrides={"models": {"transcriber": {"device": "tpu"}}})
    Traceback (most recent call last):
    ConfigError: models.transcriber.device = 'tpu': Input should be 'auto', 'cpu' or 'cuda'

One module per area: :mod:`.speech` (audio, transcriber, diarizer, embedders, PII),
:mod:`.semantic` (index, moments, mining, SOPs, evidence), :mod:`.drills`, :mod:`.training`,
:mod:`.runtime` (catalog, import, Ray, service, demo), :mod:`.domain` (stages, keys, tiers),
:mod:`.settings` (the tree) and :mod:`.loading` (the layers above). Import from here.
"""

from talktrack.core.config.base import ConfigError, Strict
from talktrack.core.config.domain import (
    STAGE_KEYS,
    CustomerTiers,
    KeyQuestion,
    Named,
    ProgressLevel,
    Stage,
    StageGateSettings,
)
from talktrack.core.config.drills import (
    DrillGeneratorSettings,
    DrillPolicySettings,
    DrillScoringSettings,
    DrillSettings,
)
from talktrack.core.config.loading import ENV_PREFIX, default_config_path, load_settings
from talktrack.core.config.runtime import (
    CatalogSettings,
    DemoSettings,
    ImportSettings,
    QuotaSettings,
    RaySettings,
    ServingSettings,
)
from talktrack.core.config.semantic import (
    EvidenceSettings,
    IndexSettings,
    MiningSettings,
    MomentSettings,
    SemanticSettings,
    SopSettings,
)
from talktrack.core.config.settings import Settings
from talktrack.core.config.speech import (
    AudioSettings,
    DiarizerSettings,
    EmbedderSettings,
    ModelSettings,
    PiiKind,
    PiiSettings,
    TranscriberSettings,
)
from talktrack.core.config.training import (
    CapabilityTrainingSettings,
    CustomerTrainingSettings,
    MlflowSettings,
    TrainingSettings,
)

__all__ = [
    "ENV_PREFIX", "STAGE_KEYS", "AudioSettings", "CapabilityTrainingSettings", "CatalogSettings", "ConfigError",
    "CustomerTiers", "CustomerTrainingSettings", "DemoSettings", "DiarizerSettings", "DrillGeneratorSettings",
    "DrillPolicySettings", "DrillScoringSettings", "DrillSettings", "EmbedderSettings", "EvidenceSettings",
    "ImportSettings", "IndexSettings", "KeyQuestion", "MiningSettings", "MlflowSettings", "ModelSettings",
    "MomentSettings", "Named", "PiiKind", "PiiSettings", "ProgressLevel", "QuotaSettings", "RaySettings",
    "SemanticSettings", "ServingSettings", "Settings", "SopSettings", "Stage", "StageGateSettings", "Strict",
    "TrainingSettings", "TranscriberSettings", "default_config_path", "load_settings",
]
