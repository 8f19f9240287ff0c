"""The line a config key sits on, for error messages."""

import pytest

from modeld.config import key_line, load_config, locate, parse_config

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


def test_locate_names_the_file_and_line_of_a_key_found_wrong_after_loading(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[app]]\nkind = "comfyui"\npath = "/a"\n\n[app.folders]\nlora = "x/y"\n')
    config = load_config(path)
    assert locate(config, "app[0].folders", "lora") == f"{path}:line 6: app[0].folders.lora"
    # the file gone since loading: the key is still named, its line is not
    path.unlink()
    assert locate(config, "app[0].folders", "lora") == f"{path}:?: app[0].folders.lora"


def test_locate_without_a_file_is_the_dotted_key():
    config = parse_config({}, source=None)
    assert locate(config, "hub", "enabled") == "hub.enabled"
    assert locate(config, "", "library") == "library"
