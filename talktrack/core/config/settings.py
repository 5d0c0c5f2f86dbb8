"""The whole settings tree: every section, and the domain it is checked against."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from talktrack.core.config.base import Strict
from talktrack.core.config.domain import (
    STAGE_KEYS,
    CustomerTiers,
    KeyQuestion,
    Named,
    ProgressLevel,
    Stage,
    StageGateSettings,
)
from talktrack.core.config.drills import DrillSettings
from talktrack.core.config.management import ManagementSettings
from talktrack.core.config.process_health import ProcessHealthSettings
from talktrack.core.config.runtime import (
    CatalogSettings,
    DemoSettings,
    ImportSettings,
    RaySettings,
    ServingSettings,
)
from talktrack.core.config.semantic import SemanticSettings
from talktrack.core.config.speech import AudioSettings, ModelSettings, PiiSettings
from talktrack.core.config.training import MlflowSettings, TrainingSettings


class Settings(Strict):
    """Every setting of the platform; build it with :func:`load_settings`."""

    workspace: Path = Path("./workspace")
    catalog: CatalogSettings = CatalogSettings()
    import_: ImportSettings = Field(ImportSettings(), alias="import")
    models: ModelSettings = ModelSettings()
    ray: RaySettings = RaySettings()
    mlflow: MlflowSettings = MlflowSettings()
    training: TrainingSettings = TrainingSettings()
    audio: AudioSettings = AudioSettings()
    pii: PiiSettings = PiiSettings()
    semantic: SemanticSettings = SemanticSettings()
    stages: list[Stage]
    stage_gates: StageGateSettings = StageGateSettings()
    key_questions: dict[str, KeyQuestion]
    progress_levels: list[ProgressLevel]
    evidence_kinds: list[str]
    capability_dimensions: list[Named] = Field(min_length=12, max_length=12)
    survey_sources: list[str]
    survey_scale: dict[Literal["min", "max"], float]
    objection_types: list[Named] = Field(min_length=1)
    moves: list[Named] = Field(min_length=1)
    customer_tiers: CustomerTiers = CustomerTiers()
    demo: DemoSettings = DemoSettings()
    serving: ServingSettings = ServingSettings()
    drills: DrillSettings = DrillSettings()
    management: ManagementSettings = ManagementSettings()
    process_health: ProcessHealthSettings = ProcessHealthSettings()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("stages")
    @classmethod
    def _six_stages_in_order(cls, stages: list[Stage]) -> list[Stage]:
        keys = tuple(stage.key for stage in stages)
        if keys != STAGE_KEYS:
            raise ValueError(f"stages must be, in order: {', '.join(STAGE_KEYS)}")
        return stages

    @model_validator(mode="after")
    def _key_questions_defined(self) -> Settings:
        for stage in self.stages:
            unknown = sorted(set(stage.key_questions) - set(self.key_questions))
            if unknown:
                raise ValueError(
                    f"stage {stage.key!r} names key questions {unknown} not defined under key_questions"
                )
        return self

    @model_validator(mode="after")
    def _required_evidence_known(self) -> Settings:
        for stage in self.stages:
            unknown = sorted({kind for group in stage.required_groups() for kind in group} - set(self.evidence_kinds))
            if unknown:
                raise ValueError(f"stage {stage.key!r} requires evidence kinds {unknown} not listed under "
                                 f"evidence_kinds ({', '.join(self.evidence_kinds)})")
        return self

    @property
    def stage_keys(self) -> tuple[str, ...]:
        return tuple(stage.key for stage in self.stages)

    @property
    def capability_keys(self) -> tuple[str, ...]:
        return tuple(dim.key for dim in self.capability_dimensions)

    @property
    def objection_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.objection_types)

    @property
    def move_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.moves)

    @property
    def progress_level_keys(self) -> tuple[str, ...]:
        return tuple(level.key for level in self.progress_levels)

    def stage(self, key: str) -> Stage:
        return next(stage for stage in self.stages if stage.key == key)
