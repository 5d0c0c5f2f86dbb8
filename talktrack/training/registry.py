"""MLflow tracking and the model registry, shared by every TalkTrack model.

One place decides where runs are stored (SQLite inside the workspace unless
``settings.mlflow.tracking_uri`` names a server), what every training run logs
(flat ``step__name`` params, metrics, git commit, data fingerprint, plots, the
model as a pyfunc with signature and input example) and when a new version may
become ``champion``: only when its holdout metric beats the champion's by the
gate in ``settings.training.promotion_gate``. A version that does not is kept,
tagged ``talktrack.status=rejected`` with ``talktrack.reason``.

Promotion history is a registered-model tag (``talktrack.champion_history``, the
versions that were champion, oldest first), so :func:`rollback` can restore the
previous champion without guessing from timestamps.

Example::

    client = open_tracking(settings, workspace)
    result = register_candidate(settings, workspace, model_name="talktrack-customer-scorer",
                                experiment="customer-scorer", python_model=model,
                                artifacts={"estimator": "/tmp/est.skops"}, input_example=frame,
                                params={"model": {"c": 1.0}}, metrics={"holdout_auc": 0.81},
                                holdout_metric="holdout_auc", higher_is_better=True,
                                data_fingerprint="ab12...")
    result.promoted, result.reason
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace

CHAMPION = "champion"
STATUS_TAG = "talktrack.status"
REASON_TAG = "talktrack.reason"
HISTORY_TAG = "talktrack.champion_history"
FINGERPRINT_TAG = "talktrack.data_fingerprint"
GIT_TAG = "talktrack.git_commit"
METRIC_TAG = "talktrack.holdout_metric"


class RegistryError(RuntimeError):
    """A registry request that cannot be done; the message names the model/version and why."""


@dataclass
class PromotionResult:
    """What :func:`register_candidate` did with a new version, and why."""

    model_name: str
    version: str
    run_id: str
    promoted: bool
    reason: str
    champion_before: str | None
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tracking_uri(settings: Settings, workspace: Workspace) -> str:
    """The configured tracking URI, or a SQLite store inside the workspace."""
    if settings.mlflow.tracking_uri:
        return settings.mlflow.tracking_uri
    return f"sqlite:///{workspace.mlflow_dir / 'mlflow.db'}"


def artifact_root(settings: Settings, workspace: Workspace) -> str | None:
    """Where a new experiment stores artefacts: the workspace for the local store (MLflow's own
    default is ``./mlruns`` under the current directory); the server decides otherwise."""
    if settings.mlflow.tracking_uri:
        return None
    return (workspace.mlflow_dir / "artifacts").as_uri()


def open_tracking(settings: Settings, workspace: Workspace):
    """Point MLflow (tracking and registry) at this workspace's store, telemetry off.

    Returns an ``mlflow.MlflowClient``. MLflow is imported here, lazily, so that importing
    TalkTrack never pays for it.
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    if not settings.mlflow.tracking_uri:
        workspace.mlflow_dir.mkdir(parents=True, exist_ok=True)
    uri = tracking_uri(settings, workspace)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def ensure_experiment(settings: Settings, workspace: Workspace, name: str) -> str:
    """The id of experiment ``name``, created with the workspace artefact root when new."""
    client = open_tracking(settings, workspace)
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return client.create_experiment(name, artifact_location=artifact_root(settings, workspace))


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"model": {"c": 1}}`` → ``{"model__c": "1"}`` (MLflow params are flat strings)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}__{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten_params(value, name))
        else:
            flat[name] = str(value)[:6000]
    return flat


def git_commit() -> str:
    """The commit of the TalkTrack checkout ("unknown" outside git), with ``+dirty`` when changed."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}+dirty" if dirty else sha


def gate_for(settings: Settings, model_name: str) -> float:
    """The promotion gate of a model: keyed by the full name or by its short name
    (``talktrack-customer-scorer`` → ``customer``); 0 when none is configured."""
    gates = settings.training.promotion_gate
    if model_name in gates:
        return gates[model_name]
    short = model_name.removeprefix("talktrack-").split("-")[0]
    return gates.get(short, 0.0)


def default_pip_requirements() -> list[str]:
    """Pinned requirements of a TalkTrack pyfunc (MLflow's inference adds the CPU torch build)."""
    from importlib.metadata import version

    names = ("mlflow", "scikit-learn", "numpy", "pandas", "scipy", "skops")
    return [f"{name}=={version(name)}" for name in names]


def register_candidate(
    settings: Settings,
    workspace: Workspace,
    *,
    model_name: str,
    experiment: str,
    python_model,
    artifacts: dict[str, str],
    input_example,
    params: dict,
    metrics: dict,
    holdout_metric: str,
    higher_is_better: bool,
    data_fingerprint: str,
    plots: dict[str, Path] | None = None,
    tags: dict | None = None,
) -> PromotionResult:
    """Log a trained model as a run, register it, and promote it or tag it rejected.

    When an MLflow run is already active (a tuning parent run), the candidate is logged into
    it; otherwise a new run is started in ``experiment``. ``metrics[holdout_metric]`` is
    compared with the same metric on the champion's run.
    """
    if holdout_metric not in metrics:
        raise RegistryError(f"{model_name}: holdout metric {holdout_metric!r} is not among the metrics "
                            f"{sorted(metrics)}")
    import mlflow

    open_tracking(settings, workspace)
    experiment_id = ensure_experiment(settings, workspace, experiment)
    own_run = mlflow.active_run() is None
    run = mlflow.start_run(experiment_id=experiment_id) if own_run else mlflow.active_run()
    try:
        version = _log_and_register(settings, model_name, python_model, artifacts, input_example,
                                    params, metrics, holdout_metric, data_fingerprint, plots, tags)
    finally:
        if own_run:
            mlflow.end_run()
    return _decide(settings, workspace, model_name, version, run.info.run_id, metrics, holdout_metric,
                   higher_is_better)


def _log_and_register(settings, model_name, python_model, artifacts, input_example, params, metrics,
                      holdout_metric, data_fingerprint, plots, tags) -> str:
    import mlflow

    mlflow.log_params(flatten_params(params))
    mlflow.log_metrics({key: float(value) for key, value in metrics.items()})
    mlflow.set_tags({GIT_TAG: git_commit(), FINGERPRINT_TAG: data_fingerprint, METRIC_TAG: holdout_metric,
                     **{key: str(value) for key, value in (tags or {}).items()}})
    for name, path in (plots or {}).items():
        mlflow.log_artifact(str(path), artifact_path="plots")
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=python_model,
        artifacts=artifacts,
        input_example=input_example,
        pip_requirements=default_pip_requirements(),
        registered_model_name=model_name,
    )
    if info.registered_model_version is None:
        raise RegistryError(f"{model_name}: MLflow did not register the logged model")
    return str(info.registered_model_version)


def _decide(settings, workspace, model_name, version, run_id, metrics, holdout_metric,
            higher_is_better) -> PromotionResult:
    client = open_tracking(settings, workspace)
    champion = _champion_version(client, model_name)
    new_value = float(metrics[holdout_metric])
    gate = gate_for(settings, model_name)
    if champion is None:
        promoted, reason = True, f"first version: no champion yet ({holdout_metric} {new_value:.4f})"
    else:
        old_value = client.get_run(champion.run_id).data.metrics.get(holdout_metric)
        promoted, reason = _compare(holdout_metric, new_value, old_value, gate, higher_is_better,
                                    champion.version)
    result = PromotionResult(model_name, version, run_id, promoted, reason,
                             None if champion is None else str(champion.version),
                             {key: float(value) for key, value in metrics.items()})
    if promoted:
        _make_champion(client, model_name, version, reason)
    else:
        _tag(client, model_name, version, "rejected", reason)
    return result


def _compare(metric, new_value, old_value, gate, higher_is_better, champion_version) -> tuple[bool, str]:
    if old_value is None:
        return True, f"champion v{champion_version} has no {metric}; the new version replaces it"
    gain = (new_value - old_value) if higher_is_better else (old_value - new_value)
    verdict = f"{metric} {new_value:.4f} vs champion v{champion_version} {old_value:.4f} (gate {gate:g})"
    if gain > gate or (gate == 0 and gain >= 0 and new_value != old_value):
        return True, f"beats champion: {verdict}"
    return False, f"does not beat champion by the gate: {verdict}"


def _champion_version(client, model_name):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        return None


def _tag(client, model_name: str, version: str, status: str, reason: str) -> None:
    client.set_model_version_tag(model_name, str(version), STATUS_TAG, status)
    client.set_model_version_tag(model_name, str(version), REASON_TAG, reason[:4000])


def _history(client, model_name: str) -> list[str]:
    tags = client.get_registered_model(model_name).tags
    raw = tags.get(HISTORY_TAG, "")
    return [item for item in raw.split(",") if item]


def _make_champion(client, model_name: str, version: str, reason: str) -> None:
    previous = _champion_version(client, model_name)
    if previous is not None and str(previous.version) != str(version):
        _tag(client, model_name, previous.version, "retired", f"replaced by v{version}")
    client.set_registered_model_alias(model_name, CHAMPION, str(version))
    history = [item for item in _history(client, model_name) if item != str(version)] + [str(version)]
    client.set_registered_model_tag(model_name, HISTORY_TAG, ",".join(history))
    _tag(client, model_name, version, CHAMPION, reason)


def list_versions(settings: Settings, workspace: Workspace, model_name: str | None = None) -> list[dict]:
    """Every registered version (of one model, or all): version, alias, status, reason, metrics, created."""
    client = open_tracking(settings, workspace)
    names = [model_name] if model_name else [model.name for model in client.search_registered_models()]
    rows = []
    for name in names:
        _require_model(client, name)
        for found in client.search_model_versions(f"name='{name}'"):
            # search results carry no aliases; the single-version lookup does
            rows.append(_version_row(client, client.get_model_version(name, found.version)))
    return sorted(rows, key=lambda row: (row["model_name"], int(row["version"])))


def _version_row(client, mv) -> dict:
    run_metrics = client.get_run(mv.run_id).data.metrics if mv.run_id else {}
    return {
        "model_name": mv.name,
        "version": str(mv.version),
        "alias": ",".join(getattr(mv, "aliases", []) or []),
        "status": mv.tags.get(STATUS_TAG, "registered"),
        "reason": mv.tags.get(REASON_TAG, ""),
        "run_id": mv.run_id,
        "metrics": dict(run_metrics),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mv.creation_timestamp / 1000)),
    }


def _require_model(client, model_name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(model_name)
    except MlflowException:
        raise RegistryError(f"model {model_name!r} is not registered (train it first)") from None


def _require_version(client, model_name: str, version: str) -> None:
    from mlflow.exceptions import MlflowException

    _require_model(client, model_name)
    try:
        client.get_model_version(model_name, str(version))
    except MlflowException:
        raise RegistryError(f"model {model_name!r} has no version {version!r}") from None


def promote(settings: Settings, workspace: Workspace, model_name: str, version: str | int, *,
            reason: str) -> dict:
    """Make ``version`` champion by hand (no gate), recording ``reason``."""
    client = open_tracking(settings, workspace)
    _require_version(client, model_name, str(version))
    before = _champion_version(client, model_name)
    _make_champion(client, model_name, str(version), f"promoted by hand: {reason}")
    return {"model_name": model_name, "champion": str(version),
            "champion_before": None if before is None else str(before.version), "reason": reason}


def rollback(settings: Settings, workspace: Workspace, model_name: str) -> dict:
    """Hand ``champion`` back to the version that held it before the current one."""
    client = open_tracking(settings, workspace)
    _require_model(client, model_name)
    history = _history(client, model_name)
    current = _champion_version(client, model_name)
    if current is None or len(history) < 2:
        raise RegistryError(f"model {model_name!r}: no previous champion to roll back to "
                            f"(champion history: {history or 'empty'})")
    restored = history[-2]
    client.set_registered_model_alias(model_name, CHAMPION, restored)
    client.set_registered_model_tag(model_name, HISTORY_TAG, ",".join(history[:-1]))
    _tag(client, model_name, current.version, "rolled_back", f"rolled back to v{restored}")
    _tag(client, model_name, restored, CHAMPION, f"restored by rollback from v{current.version}")
    return {"model_name": model_name, "champion": restored, "champion_before": str(current.version)}


def load_champion(settings: Settings, workspace: Workspace, model_name: str):
    """``(pyfunc model, version)`` of the current champion; a clear error when there is none."""
    import mlflow

    client = open_tracking(settings, workspace)
    _require_model(client, model_name)
    champion = _champion_version(client, model_name)
    if champion is None:
        raise RegistryError(f"model {model_name!r} has no champion (promote a version first)")
    return mlflow.pyfunc.load_model(f"models:/{model_name}@{CHAMPION}"), str(champion.version)
