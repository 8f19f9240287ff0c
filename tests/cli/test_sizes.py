"""`modeld list` and `modeld show` print sizes in decimal units (modeld.sizes)."""

from __future__ import annotations

import os

from tests import modelfiles


def test_list_and_show_print_decimal_sizes(cli, drop):
    source = drop / "big.safetensors"
    modelfiles.write_safetensors(source, {"w": ("F32", [600_000])})  # 2.4 MB and a header
    with open(source, "r+b") as handle:  # not sparse, not a duplicate of another test's file
        handle.seek(200)
        handle.write(os.urandom(1_000_000))
    size = source.stat().st_size
    assert 2_400_000 < size < 2_450_000  # 2.3 in units of 1024 * 1024: the old, wrong label
    report = cli.json("import", str(source))
    (imported,) = report["imported"]

    (row,) = cli.run("list").stdout.splitlines()
    assert " 2.4 MB " in row

    shown = cli.run("show", imported["id"]).stdout.splitlines()
    assert "  size        2.4 MB" in shown
    assert "    big.safetensors  2.4 MB" in shown
