"""Finding the config file and reading it: defaults, $MODELD_CONFIG, a named file."""

import pytest

from modeld.config import ConfigError, load_config


def test_no_file_means_builtin_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("MODELD_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = load_config()
    assert config.source is None
    assert config.library_root == tmp_path / "data" / "modeld" / "library"
    assert config.index_path == config.library_root / ".modeld" / "index.db"
    assert config.quarantine_dir == config.library_root / ".modeld" / "quarantine"
    assert config.watches == () and config.apps == ()
    assert config.hub.enabled is True


def test_env_variable_picks_the_file_and_relative_paths_follow_it(monkeypatch, tmp_path):
    path = tmp_path / "conf" / "modeld.toml"
    path.parent.mkdir()
    path.write_text('[library]\nroot = "lib"\n[[watch]]\npath = "~/drop"\nmode = "copy"\n')
    monkeypatch.setenv("MODELD_CONFIG", str(path))
    monkeypatch.setenv("HOME", str(tmp_path))
    config = load_config()
    assert config.source == path
    assert config.library_root == path.parent / "lib"
    assert config.watches[0].path == tmp_path / "drop"
    assert config.watches[0].mode == "copy"


def test_named_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
