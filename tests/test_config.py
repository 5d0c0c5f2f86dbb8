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
