"""The capability model as an MLflow pyfunc (imported only when registering or loading, since
it pulls in mlflow)."""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd

from talktrack.models.capability import read_model_dir, wide_to_inputs


class CapabilityPyfunc(mlflow.pyfunc.PythonModel):
    """Input: one row per rep-month: ``rep``, ``period`` (YYYY-MM), the feature columns, and
    ``survey:DIM:SOURCE`` / ``respondents:DIM:SOURCE`` (any may be missing). Output: the long
    estimate table (rep, period, dimension, estimate on the survey scale, sd, z, ...)."""

    def load_context(self, context):
        self.model = read_model_dir(Path(context.artifacts["model_dir"]))

    def predict(self, context, model_input, params=None):
        features, surveys = wide_to_inputs(self.model, pd.DataFrame(model_input))
        return self.model.estimate(features, surveys, use_features=self.model.options["use_features"],
                                   smooth=self.model.options["smooth"])
