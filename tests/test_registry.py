"""The MLflow registry: the promotion gate, rejected versions, rollback, a pyfunc that loads elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from talktrack.core.workspace import Workspace
from talktrack.models.customer_scorer import CustomerScorer
from talktrack.training import registry
from talktrack.training.customer_pyfunc import CustomerScorerModel, save_estimator
from talktrack.training.registry import RegistryError

MODEL = "talktrack-customer-scorer"
FEATURES = ["log_employees", "sentiment", "stalled_any", "days__negotiation"]


@pytest.fixture(scope="module")
def data():
    """Deals whose outcome follows a known logistic model of the four features."""
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(5.7, 1.2, 600), rng.uniform(-1, 1, 600), rng.random(600) < 0.3,
                         rng.gamma(2.0, 2.0, 600)])
    logit = 0.8 * (X[:, 0] - 5.7) + 1.2 * X[:, 1] - 1.0 * X[:, 2]
    y = (rng.random(600) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(X, columns=FEATURES), y


def _candidate(settings, workspace, name, tmp_path, data, *, shuffle=False, columns=FEATURES, tag=""):
    frame, y = data
    train, test = slice(0, 400), slice(400, None)
    labels = np.random.default_rng(0).permutation(y) if shuffle else y
    fitted = frame[columns].reindex(columns=FEATURES)   # left-out features unknown (NaN)
    scorer = CustomerScorer(calibration="sigmoid", random_state=0).fit(fitted[train].to_numpy(), labels[train])
    auc = roc_auc_score(y[test], scorer.predict_proba(fitted[test].to_numpy())[:, 1])
    folder = tmp_path / f"candidate{tag}"
    folder.mkdir()
    config = {"features": FEATURES, "tiers": {"a": 0.6, "b": 0.3}, "stages": {"negotiation": ["Negotiation", 7]},
              "top_reasons": 2}
    (folder / "config.json").write_text(json.dumps(config))
    artifacts = {"estimator": str(save_estimator(scorer, folder / "estimator.skops")),
                 "config": str(folder / "config.json")}
    return registry.register_candidate(
        settings, workspace, model_name=name, experiment="test-customer", python_model=CustomerScorerModel(),
        artifacts=artifacts, input_example=frame[test].head(3), params={"model": scorer.get_params()},
        metrics={"holdout_auc": auc}, holdout_metric="holdout_auc", higher_is_better=True,
        data_fingerprint="test", tags={"shuffled": shuffle})


@pytest.fixture(scope="module")
def store(tmp_path_factory, settings):
    """One tracking store for the module (creating an MLflow SQLite store costs seconds)."""
    workspace = Workspace.at(tmp_path_factory.mktemp("registry") / "ws").ensure()
    return settings.model_copy(update={"workspace": workspace.root}), workspace


@pytest.fixture
def tracked(store, request):
    """(settings, workspace, model name): the shared store and a name of this test's own, so its
    champion history starts empty. The name keeps the ``customer`` gate."""
    suffix = request.node.name.removeprefix("test_")[:40].replace("_", "-")
    return (*store, f"{MODEL}-{suffix}")


def _status(settings, workspace, name, version):
    rows = {row["version"]: row for row in registry.list_versions(settings, workspace, name)}
    return rows[str(version)]


def test_a_worse_model_is_registered_but_rejected_with_the_reason(tracked, tmp_path, data):
    settings, workspace, name = tracked
    first = _candidate(settings, workspace, name, tmp_path, data)
    worse = _candidate(settings, workspace, name, tmp_path, data, shuffle=True, tag="shuffled")

    assert first.promoted and first.champion_before is None
    assert not worse.promoted and worse.champion_before == first.version
    assert worse.metrics["holdout_auc"] < first.metrics["holdout_auc"] - settings.training.promotion_gate["customer"]
    row = _status(settings, workspace, name, worse.version)
    assert row["status"] == "rejected"
    assert "does not beat champion" in row["reason"] and "holdout_auc" in row["reason"]
    assert _status(settings, workspace, name, first.version)["alias"] == "champion"
    _, version = registry.load_champion(settings, workspace, name)
    assert version == first.version


def test_rollback_restores_the_previous_champion(tracked, tmp_path, data):
    settings, workspace, name = tracked
    weak = _candidate(settings, workspace, name, tmp_path, data, columns=["days__negotiation"], tag="weak")
    strong = _candidate(settings, workspace, name, tmp_path, data, tag="strong")
    assert weak.promoted and strong.promoted, strong.reason

    result = registry.rollback(settings, workspace, name)

    assert result == {"model_name": name, "champion": weak.version, "champion_before": strong.version}
    assert registry.load_champion(settings, workspace, name)[1] == weak.version
    assert _status(settings, workspace, name, strong.version)["status"] == "rolled_back"
    with pytest.raises(RegistryError, match="no previous champion"):
        registry.rollback(settings, workspace, name)


def test_promote_by_hand_and_clear_errors(tracked, tmp_path, data):
    settings, workspace, name = tracked
    first = _candidate(settings, workspace, name, tmp_path, data)
    worse = _candidate(settings, workspace, name, tmp_path, data, shuffle=True, tag="shuffled")
    registry.promote(settings, workspace, name, worse.version, reason="audit asked for it")
    assert registry.load_champion(settings, workspace, name)[1] == worse.version
    assert "audit asked for it" in _status(settings, workspace, name, worse.version)["reason"]
    assert registry.rollback(settings, workspace, name)["champion"] == first.version
    with pytest.raises(RegistryError, match="no version '99'"):
        registry.promote(settings, workspace, name, "99", reason="x")
    with pytest.raises(RegistryError, match="not registered"):
        registry.list_versions(settings, workspace, "talktrack-nothing")


def test_the_champion_pyfunc_loads_and_scores_in_a_fresh_process(tracked, tmp_path, data):
    settings, workspace, name = tracked
    _candidate(settings, workspace, name, tmp_path, data)
    script = (
        "import json, sys\n"
        "from talktrack.core.config import load_settings\n"
        "from talktrack.core.workspace import Workspace\n"
        "from talktrack.training import registry\n"
        "model, version = registry.load_champion(load_settings(), Workspace.at(sys.argv[1]), sys.argv[2])\n"
        "out = model.predict(model.input_example)\n"
        "print(json.dumps({'version': version, 'rows': out.to_dict('records'),"
        " 'inputs': model.metadata.signature.inputs.input_names()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(workspace.root), name], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["inputs"] == FEATURES
    assert len(answer["rows"]) == 3
    for row in answer["rows"]:
        assert 0.0 <= row["p_win"] <= 1.0 and row["tier"] in {"A", "B", "C"}
        assert json.loads(row["reasons"])

