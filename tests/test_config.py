from pathlib import Path

import pytest

from modeld.config import ConfigError, key_line, load_config, parse_config


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


CONFIG_TEXT = """\
[library]
root = "/lib"

[[app]]
name = "a"
path = "/a"

[app.folders]
lora = "loras/x"

[[app]]
name = "b"
'path' = "/b"

[ queues . readers ]
ssd = 4
"""


@pytest.mark.parametrize(
    ("table", "key", "line"),
    [
        ("library", "root", 2),
        ("app[0]", "path", 6),
        ("app[0].folders", "lora", 9),
        ("app[1]", "path", 13),
        ("app[1]", "kind", 11),  # missing: the table's header
        ("app[1].folders", "lora", None),  # the second app has no such table
        ("queues.readers", "ssd", 16),
        ("hub", "enabled", None),
        ("", "library", None),
    ],
)
def test_errors_point_at_the_right_line(table, key, line):
    assert key_line(CONFIG_TEXT.splitlines(), table, key) == line


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
