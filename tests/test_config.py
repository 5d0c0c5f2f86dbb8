"""Configuration: defaults load, overrides layer, and bad values fail with key, value and choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from talktrack.core.config import STAGE_KEYS, ConfigError, load_settings


def test_defaults_hold_the_domain(settings):
    assert settings.stage_keys == STAGE_KEYS
    assert len(settings.capability_keys) == 12
    assert set(settings.objection_keys) == {"price", "competitor", "timing", "authority", "need", "trust", "delivery"}
    assert settings.stage("negotiation").threshold_days == 7
    assert settings.workspace == Path("./workspace")


def test_user_yaml_overrides_defaults_and_keeps_the_rest(tmp_path):
    user = tmp_path / "mine.yaml"
    user.write_text("models:\n  transcriber:\n    device: cuda\ncatalog:\n  url: sqlite:///x.db\n")
    settings = load_settings(user, environ={})
    assert settings.models.transcriber.device == "cuda"
    assert settings.models.transcriber.model == "tiny.en"
    assert settings.catalog.url == "sqlite:///x.db"


def test_environment_beats_yaml_and_parses_scalars(tmp_path):
    user = tmp_path / "mine.yaml"
    user.write_text("workspace: /from/yaml\n")
    environ = {
        "TALKTRACK_WORKSPACE": "/from/env",
        "TALKTRACK_MODELS__DIARIZER__MAX_SPEAKERS": "3",
        "TALKTRACK_PII__REDACT": "false",
        "UNRELATED": "x",
    }
    settings = load_settings(user, environ=environ)
    assert settings.workspace == Path("/from/env")
    assert settings.models.diarizer.max_speakers == 3
    assert settings.pii.redact is False


def test_invalid_choice_names_key_value_and_choices():
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"TALKTRACK_MODELS__TRANSCRIBER__DEVICE": "tpu"})
    message = str(caught.value)
    assert "models.transcriber.device = 'tpu'" in message
    assert "'auto', 'cpu' or 'cuda'" in message


def test_out_of_range_and_cross_field_errors_are_explained():
    with pytest.raises(ConfigError, match=r"customer_tiers.*tier b \(0.7\) must be below tier a \(0.6\)"):
        load_settings(environ={"TALKTRACK_CUSTOMER_TIERS__B": "0.7"})
    with pytest.raises(ConfigError, match=r"models.diarizer.min_speakers = 0: .*greater than or equal to 1"):
        load_settings(environ={"TALKTRACK_MODELS__DIARIZER__MIN_SPEAKERS": "0"})


def test_unknown_keys_are_refused_not_ignored(tmp_path):
    user = tmp_path / "typo.yaml"
    user.write_text("modles:\n  transcriber: {}\n")
    with pytest.raises(ConfigError, match=r"modles = .*: unknown setting"):
        load_settings(user, environ={})


def test_stages_must_be_the_six_in_order(tmp_path):
    user = tmp_path / "stages.yaml"
    user.write_text(
        "stages:\n  - {key: lead, name_en: Lead, name_zh: 线索, threshold_days: 7}\n"
    )
    with pytest.raises(ConfigError, match="stages must be, in order: lead, qualification"):
        load_settings(user, environ={})


def test_unreadable_config_files_say_so(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.yaml", environ={})
    broken = tmp_path / "broken.yaml"
    broken.write_text("models: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(broken, environ={})
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_settings(listing, environ={})


def test_drill_settings_are_part_of_the_tree_and_reached_by_yaml_and_environment(tmp_path):
    """Drills used to be read from drills.yaml on their own; now --config and TALKTRACK_DRILLS__* reach them."""
    user = tmp_path / "mine.yaml"
    user.write_text("drills:\n  languages: [zh]\n  policy:\n    max_reply_lookahead: 5\n")
    settings = load_settings(user, environ={"TALKTRACK_DRILLS__SCORING__CLOSENESS_WEIGHT": "0.7"})
    assert settings.drills.languages == ("zh",)
    assert settings.drills.policy.max_reply_lookahead == 5
    assert settings.drills.scoring.closeness_weight == 0.7
    assert settings.drills.scoring.moves_weight == 0.15  # the rest keeps its default
    with pytest.raises(ConfigError, match=r"drills.generator = .*needs model_path"):
        load_settings(environ={"TALKTRACK_DRILLS__GENERATOR__KIND": "transformers"})
    with pytest.raises(ConfigError, match=r"drills.languages.0 = 'fr'"):
        load_settings(environ={"TALKTRACK_DRILLS__LANGUAGES": "[fr]"})


def test_a_workspace_drills_yaml_is_refused_and_told_where_its_content_goes(tmp_path):
    """It used to replace the drill settings on its own; ignoring it now would silently drop a deployment's
    personas or generator, so start fails until drills.file names it (and its knobs move to the tree)."""
    (tmp_path / "drills.yaml").write_text("personas: {}\n")
    with pytest.raises(ConfigError, match=r"no longer read on its own.*under `drills:`.*drills.file"):
        load_settings(environ={"TALKTRACK_WORKSPACE": str(tmp_path)})
    named = load_settings(environ={"TALKTRACK_WORKSPACE": str(tmp_path),
                                   "TALKTRACK_DRILLS__FILE": str(tmp_path / "drills.yaml")})
    assert named.drills.file == str(tmp_path / "drills.yaml")
