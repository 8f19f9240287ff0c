"""Validating a config document: every refused value names its key (and line)."""

from pathlib import Path

import pytest

from modeld.config import ConfigError, load_config, parse_config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[watch]]\npath = "/x"\nmode = "moove"\n', r"line 3: watch\[0\]\.mode: expected one of"),
        ("[hub]\nenabled = 3\n", r"line 2: hub\.enabled: expected true or false"),
        ("[library]\nrooot = 1\n", r"library\.rooot: unknown key"),
        ('[[app]]\nname = "c"\n', r"line 1: app\[0\]\.path: required"),
        (
            '[[app]]\npath = "/a"\n\n[[app]]\npath = "/b"\n',
            r"line 4: app\[1\]\.name: duplicate app name 'comfyui' \(give each",
        ),
        (
            '[[watch]]\npath = "/a"\nmode = "copy"\n\n[[watch]]\npath = "/b"\nmode = "moove"\n',
            r"line 7: watch\[1\]\.mode: expected one of",
        ),
        ("[daemon]\nrescan_minutes = -1\n", r"daemon\.rescan_minutes: must be at least"),
        ("[library\n", "invalid TOML"),
    ],
)
def test_invalid_values_name_the_key(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert "\n" not in str(info.value)


def test_duplicate_app_names_are_refused():
    data = {"app": [{"name": "a", "path": "/a"}, {"name": "a", "path": "/b"}]}
    with pytest.raises(ConfigError, match="duplicate app name"):
        parse_config(data, source=None)


def test_env_vars_in_paths_are_expanded(monkeypatch):
    monkeypatch.setenv("MODELS_DISK", "/mnt/disk")
    config = parse_config({"library": {"root": "$MODELS_DISK/lib"}}, source=None)
    assert config.library_root == Path("/mnt/disk/lib")


def test_an_app_without_a_name_is_named_after_its_kind():
    config = parse_config({"app": [{"kind": "lmstudio", "path": "/lms"}, {"path": "/c"}]}, None)
    assert [(app.name, app.kind) for app in config.apps] == [
        ("lmstudio", "lmstudio"),
        ("comfyui", "comfyui"),
    ]


def test_the_log_file_defaults_to_the_state_dir_and_can_be_moved():
    default = parse_config({"daemon": {"state_dir": "/st"}}, None)
    assert default.daemon.log_file == Path("/st/modeld.log")
    moved = parse_config({"daemon": {"state_dir": "/st", "log_file": "/var/log/m.log"}}, None)
    assert moved.daemon.log_file == Path("/var/log/m.log")
