"""Do a deal's chats and e-mails make the deal scorer better? The scorer with and without the ``chat__``
columns on one held-out split, and the same chat features on real chats with a real outcome beside it.

**Generated** (``talktrack eval chat-features --world W``): the world is imported into a fresh workspace,
its chats and e-mails are generated (``talktrack world chats``), imported and analysed (moments by the
zero-shot detector: the taxonomy's examples, no labels of this world). The deal table is split by time
as ``talktrack train customer`` splits it; each variant (all columns, and the same table without the
``chat__`` ones) chooses its family on the same rolling folds and is fitted on the training closes; the
holdout's AUC and log-loss are compared with a paired bootstrap of their differences. ``training_rule``
says which of the two ``talktrack train customer`` trains (the chat group must lower the rolling folds'
log-loss by more than its standard error: :func:`talktrack.training.customer.earned_columns`).

What to expect from the generator: its chats (:mod:`talktrack.evaluation.world_chats.compose`) never read
a deal's outcome or true win probability. How many threads and conversations a deal gets, who starts,
which objections and questions come up and every pause are drawn at random; only their dates are
bounded by the deal's open period, which the stage features already see. So the honest expectation is
no gain, and the report says so (``generator_makes_chats_matter: false``) rather than plant a signal.

**Real** (``--text-dir``, PersuasionForGood): 1,017 real chats in which a persuader asks a persuadee to
donate, with the donation made. Each chat is read as a deal's thread (persuader = rep, persuadee =
customer, one message per turn), its chat columns computed by the scorer's own definition
(:func:`talktrack.models.features.chat.chat_row`; the data has no timestamps, so reply latency and
recency are left out), and a logistic scorer on them alone predicts "donated" in stratified 5-fold
cross-validation.

Example::

    report = evaluate_chat_features(Path("world"), settings, Path("/tmp/cf"), chat_seed=11,
                                    text_dir=Path("../shared/data/text"))
    report["generated"]["with_chats"]["auc"], report["real"]["cv_auc"]
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from talktrack.evaluation.models.moments import fresh_workspace
from talktrack.models.customer_scorer import CustomerScorer
from talktrack.models.features.chat import ChatInputs, chat_columns, chat_row
from talktrack.training.customer import choose_family, earned_columns, holdout_metrics, prepare, selection_folds
from talktrack.training.customer_fit import scorer_for

BOOTSTRAP = 1000
UNTIMED = ("chat__reply_latency_h", "chat__days_since_customer")   # PersuasionForGood has no timestamps


def evaluate_chat_features(world_dir: Path, settings, workdir: Path, *, chat_seed: int,
                           text_dir: Path | None = None) -> dict:
    """The generated comparison (and the real one when ``text_dir`` holds PersuasionForGood)."""
    from talktrack.evaluation.world_chats import generate_chats
    from talktrack.pipelines.chat_import import import_chats
    from talktrack.pipelines.semantic.chat_text import analyse_chats
    from talktrack.pipelines.semantic.moments import load_detector

    world_dir, workdir = Path(world_dir), Path(workdir)
    truth = json.loads((world_dir / "truth.json").read_text(encoding="utf-8"))
    settings, workspace, catalog = fresh_workspace(world_dir, settings, workdir / "ws")
    generate_chats(world_dir, workdir / "chats", seed=chat_seed, voice=0, gap_h=settings.import_.chat_gap_h,
                   stage_questions={s.key: tuple(s.key_questions) for s in settings.stages})
    imported = import_chats(catalog, settings, workdir / "chats", files_dir=workdir / "chat-files")
    detector = load_detector(settings, workspace)
    analysis = analyse_chats(catalog, detector)
    report = {"world": str(world_dir), "seed": truth.get("seed"), "chat_seed": chat_seed,
              "chats": imported.totals() | {"conversations": imported.conversations},
              "analysis": analysis.to_dict(), "detector": "zero-shot (taxonomy examples only)",
              "generator_makes_chats_matter": False,
              "generated": compare_with_and_without(settings, catalog)}
    catalog.dispose()
    path = None if text_dir is None else Path(text_dir) / "persuasionforgood"
    report["real"] = persuasion_signal(path, detector, settings.objection_keys) if path else None
    return report


def compare_with_and_without(settings, catalog) -> dict:
    """Holdout AUC / log-loss of the scorer with all columns and without the ``chat__`` ones."""
    table, split = prepare(catalog, settings)
    y = table.meta["label"].to_numpy()
    chat = [c for c in table.features.columns if c.startswith("chat__")]
    folds = selection_folds(table.meta, split.train, y)
    out, probabilities = {}, {}
    for name, frame in (("without_chats", table.features.drop(columns=chat)), ("with_chats", table.features)):
        X = frame.to_numpy(float)
        family, _ = choose_family(settings, X, y, folds)
        p = scorer_for(settings, family).fit(X[split.train], y[split.train]).predict_proba(X[split.holdout])[:, 1]
        probabilities[name] = p
        metrics = holdout_metrics(y[split.holdout], p)
        out[name] = {"family": family, "features": frame.shape[1], "auc": round(metrics["holdout_auc"], 4),
                     "log_loss": round(metrics["holdout_log_loss"], 4), "brier": round(metrics["holdout_brier"], 4)}
    holdout_y = y[split.holdout].astype(int)
    out["difference"] = paired_bootstrap(holdout_y, probabilities["without_chats"], probabilities["with_chats"])
    # what `talktrack train customer` does with them: keep the group only if it earns its place on the folds
    columns, record = earned_columns(settings, table.features, y, folds)
    out["training_rule"] = record | {"trains_with": "with_chats" if set(chat) <= set(columns) else "without_chats"}
    train = split.train
    out["single_feature_auc_train"] = {c: _single_auc(table.features.loc[train, c].to_numpy(float), y[train])
                                       for c in chat}
    out |= {"deals": len(table.meta), "train_deals": int(train.sum()), "holdout_deals": int(split.holdout.sum()),
            "holdout_cutoff": f"{split.cutoff:%Y-%m-%d}",
            "deals_with_chats_before_cutoff": int((table.features["chat__messages"]
                                                   + table.features["chat__emails"]).gt(0).sum())}
    return out


def paired_bootstrap(y: np.ndarray, before: np.ndarray, after: np.ndarray, *, draws: int = BOOTSTRAP,
                     seed: int = 0) -> dict:
    """AUC and log-loss of ``after`` minus ``before`` on the same deals, with a 95 % bootstrap interval."""
    rng = np.random.default_rng(seed)
    auc, loss = [], []
    for rows in rng.integers(0, len(y), size=(draws, len(y))):
        if len(np.unique(y[rows])) < 2:
            continue
        auc.append(roc_auc_score(y[rows], after[rows]) - roc_auc_score(y[rows], before[rows]))
        loss.append(_loss(y[rows], after[rows]) - _loss(y[rows], before[rows]))
    return {"auc": round(float(roc_auc_score(y, after) - roc_auc_score(y, before)), 4),
            "auc_ci95": [round(float(np.percentile(auc, q)), 4) for q in (2.5, 97.5)],
            "log_loss": round(_loss(y, after) - _loss(y, before), 4),
            "log_loss_ci95": [round(float(np.percentile(loss, q)), 4) for q in (2.5, 97.5)], "draws": len(auc)}


def _loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1]))


def _single_auc(x: np.ndarray, y: np.ndarray) -> float | None:
    """AUC of one feature alone (unknown values at the median; None when it never varies)."""
    known = ~np.isnan(x)
    if known.sum() == 0 or len(np.unique(x[known])) < 2:
        return None
    filled = np.where(known, x, np.median(x[known]))
    return round(float(roc_auc_score(y.astype(int), filled)), 4)


def persuasion_signal(folder: Path, detector, objection_types) -> dict | None:
    """Cross-validated AUC of the chat columns alone for "the persuadee donated" (see the module doc)."""
    dialog, info = folder / "FullData_full_dialog.csv", folder / "FullData_full_info.csv"
    if not (dialog.is_file() and info.is_file()):
        return None
    donated = {}
    with info.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["B4"] == "1" and row["B6"] not in ("", "NA"):
                donated[row["B2"]] = float(row["B6"]) > 0
    turns: dict[str, dict[tuple[int, str], list[str]]] = defaultdict(dict)
    with dialog.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["B2"] in donated:
                role = "customer" if row["B4"] == "1" else "rep"
                turns[row["B2"]].setdefault((int(row["Turn"]), role), []).append(row["Unit"].strip())
    chats = sorted(turns)
    rows = _persuasion_rows(turns, chats, detector, objection_types)
    columns = [c for c in chat_columns(objection_types) if c not in UNTIMED]
    X = np.array([[row[c] for c in columns] for row in rows])
    y = np.array([donated[chat] for chat in chats], dtype=int)
    p = np.zeros(len(y))
    for fit, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(X, y):
        p[test] = CustomerScorer("logistic", calibration="none").fit(X[fit], y[fit]).predict_proba(X[test])[:, 1]
    return {"source": "PersuasionForGood FullData (real MTurk persuasion chats; outcome: donated > 0)",
            "chats": len(chats), "donated_share": round(float(y.mean()), 4), "features": columns,
            "cv_auc": round(float(roc_auc_score(y, p)), 4), "cv_log_loss": round(_loss(y, p), 4),
            "prior_log_loss": round(_loss(y, np.full(len(y), y.mean())), 4),
            "single_feature_auc": {c: _single_auc(X[:, i], y) for i, c in enumerate(columns)},
            "mean_messages": round(float(X[:, columns.index("chat__messages")].mean()), 2)}


def _persuasion_rows(turns, chats, detector, objection_types) -> list[dict]:
    """Each chat's chat columns by the scorer's definition, its persuadee turns through the detector."""
    start = datetime(2018, 9, 1)
    texts, owners = [], []
    inputs = ChatInputs(True, True)
    for pk, chat in enumerate(chats):
        messages = []
        for index, ((_, role), units) in enumerate(sorted(turns[chat].items(), key=lambda t: (t[0][0], t[0][1] != "rep"))):
            messages.append((index, pk, "chat", role, start + timedelta(minutes=index)))
            if role == "customer":
                texts.append(" ".join(units))
                owners.append((pk, index, start + timedelta(minutes=index)))
        inputs.messages[pk] = messages
    found = detector.detect(texts, roles=["customer"] * len(texts))
    for (pk, index, at), moments in zip(owners, found, strict=True):
        for label in sorted({m.label for m in moments if m.kind == "objection"}):
            inputs.objections.setdefault(pk, []).append((index, at, label))
    cutoff = start + timedelta(days=1)
    return [chat_row(inputs, pk, cutoff, objection_types) for pk in range(len(chats))]
