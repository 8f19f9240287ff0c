#!/usr/bin/env python3
"""Build a Debian package of modeld that installs and runs on the build machine's release.

    python3 packaging/build_deb.py [--wheel dist/modeld-X-py3-none-any.whl] [--outdir dist]

What the package holds:
  /usr/bin/modeld                       a launcher run by the system's python3
  /usr/lib/modeld/                      modeld and its dependencies, byte-compiled
  /usr/lib/systemd/user/modeld.service  the user unit (and modeld-tray.service)
  /usr/share/doc/modeld/copyright

Dependencies are vendored in /usr/lib/modeld because Debian does not package
the versions modeld needs (watchdog 7, peewee 4, huggingface_hub 2). Some of
them are compiled (blake3, pillow), so the package is built for one
architecture and one Python minor version: the interpreter running pip here
(--python) must have the same X.Y as the target's /usr/bin/python3, and the
package depends on exactly that python3 X.Y.

The user unit is shipped but not enabled: each user turns it on with
`systemctl --user enable --now modeld`.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAINTAINER = "modeld maintainers <maintainers@modeld.invalid>"

LAUNCHER = '''#!/usr/bin/python3
"""modeld from the Debian package: its private library folder comes first on sys.path."""

import os
import sys

# `modeld service install` reads this to write /usr/bin/modeld into the unit
# instead of `python3 -m modeld`, which could not find the private folder.
MODELD_PACKAGED_LAUNCHER = True

_prefix = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
sys.path.insert(0, os.path.join(_prefix, "lib", "modeld"))

from modeld.cli import main  # noqa: E402

sys.exit(main())
'''

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: modeld
Comment: /usr/lib/modeld also holds modeld's Python dependencies, each under
 its own license; see the *.dist-info folders there.

Files: *
Copyright: modeld contributors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 SOFTWARE.
"""

DESCRIPTION = """keeps a local collection of AI model files in order
 modeld is a background daemon that watches drop folders, validates model
 files by content, hashes them (BLAKE3 and SHA-256 in one read), imports them
 into one library, identifies them and links them into applications such as
 ComfyUI. It runs as a systemd user service: systemctl --user enable --now modeld"""


def debian_version(version: str, revision: int = 1) -> str:
    """A PEP 440 version in Debian's ordering: pre-releases sort before the release."""
    match = re.fullmatch(
        r"(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?", version
    )
    if not match:
        raise ValueError(f"cannot map version {version!r} to a Debian version")
    release, pre, pre_n, post, dev = match.groups()
    text = release
    if pre:
        text += f"~{ {'a': 'alpha', 'b': 'beta', 'rc': 'rc'}[pre] }{pre_n}"
    if post:
        text += f"+post{post}"
    if dev:
        text += f"~dev{dev}"
    return f"{text}-{revision}"


def build_wheel(outdir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir), str(REPO)],
        check=True,
    )
    return newest(outdir.glob("modeld-*.whl"))


def newest(paths) -> Path:
    found = sorted(paths, key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit("build_deb: no wheel was built")
    return found[-1]


def python_version(python: str) -> tuple[int, int]:
    out = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    major, minor = out.split()
    return int(major), int(minor)


def vendor(python: str, wheel: Path, lib: Path, pip_args: list[str]) -> None:
    """modeld and its dependencies into `lib`, byte-compiled so a user need not write there."""
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--no-warn-script-location",
            "--disable-pip-version-check",
            "--target",
            str(lib),
            *pip_args,
            str(wheel),
        ],
        check=True,
    )
    # console scripts pip wrote point at the build interpreter: /usr/bin/modeld replaces them
    shutil.rmtree(lib / "bin", ignore_errors=True)
    # checked-hash .pyc files stay valid whatever mtimes dpkg gives the sources
    subprocess.run(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j0",
            "--invalidation-mode",
            "checked-hash",
            str(lib),
        ],
        check=True,
    )


def has_native_code(lib: Path) -> bool:
    return any(p.suffix == ".so" or ".so." in p.name for p in lib.rglob("*.so*"))


def installed_size_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if p.is_file())
    return (total + 1023) // 1024


def write_md5sums(stage: Path) -> None:
    lines = []
    for path in sorted(stage.rglob("*")):
        if path.is_file() and not path.is_symlink() and "DEBIAN" not in path.parts:
            digest = hashlib.md5(path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path.relative_to(stage)}\n")
    (stage / "DEBIAN" / "md5sums").write_text("".join(lines))


def stage_package(stage: Path, wheel: Path, python: str, pip_args: list[str]) -> dict[str, str]:
    """Lay out the package tree in `stage`; returns the control fields."""
    version = wheel.name.split("-")[1]
    lib = stage / "usr" / "lib" / "modeld"
    vendor(python, wheel, lib, pip_args)

    launcher = stage / "usr" / "bin" / "modeld"
    launcher.parent.mkdir(parents=True)
    launcher.write_text(LAUNCHER)
    launcher.chmod(0o755)

    units = stage / "usr" / "lib" / "systemd" / "user"
    units.mkdir(parents=True)
    for unit in sorted((REPO / "systemd").glob("*.service")):
        shutil.copyfile(unit, units / unit.name)

    doc = stage / "usr" / "share" / "doc" / "modeld"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT)

    major, minor = python_version(python)
    if has_native_code(lib):
        architecture = subprocess.run(
            ["dpkg", "--print-architecture"], check=True, capture_output=True, text=True
        ).stdout.strip()
    else:
        architecture = "all"
    return {
        "Package": "modeld",
        "Version": debian_version(version),
        "Architecture": architecture,
        "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_size_kib(stage)),
        # the vendored .so and .pyc files are built for this one Python minor version
        "Depends": f"python3 (>= {major}.{minor}), python3 (<< {major}.{minor + 1})",
        "Section": "utils",
        "Priority": "optional",
        "Description": DESCRIPTION,
    }


def build_deb(
    wheel: Path, outdir: Path, python: str, compression: str, pip_args: list[str]
) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="modeld-deb-") as temp:
        stage = Path(temp) / "stage"
        fields = stage_package(stage, wheel, python, pip_args)
        (stage / "DEBIAN").mkdir()
        control = "".join(f"{key}: {value}\n" for key, value in fields.items())
        (stage / "DEBIAN" / "control").write_text(control)
        write_md5sums(stage)
        # dpkg refuses a control folder that others can write to
        for path in [stage, *stage.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        target = outdir / f"modeld_{fields['Version']}_{fields['Architecture']}.deb"
        subprocess.run(
            [
                "dpkg-deb",
                "--root-owner-group",
                f"-Z{compression}",
                "--build",
                str(stage),
                str(target),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description="Build the modeld .deb")
    parser.add_argument("--wheel", type=Path, help="a built modeld wheel (default: build one)")
    parser.add_argument("--outdir", type=Path, default=REPO / "dist")
    parser.add_argument(
        "--python",
        default="python3",
        help="the interpreter whose pip vendors the dependencies; same X.Y as the target's python3",
    )
    parser.add_argument(
        "--compression", default="xz", choices=("xz", "gzip", "zstd", "none"), help="dpkg-deb -Z"
    )
    parser.add_argument(
        "--pip-arg",
        action="append",
        default=[],
        help="passed to pip install, e.g. --pip-arg=--no-index --pip-arg=--find-links=wheels/",
    )
    args = parser.parse_args()
    if shutil.which("dpkg-deb") is None:
        parser.error("dpkg-deb is needed (Debian's dpkg package)")
    wheel = args.wheel or build_wheel(args.outdir)
    target = build_deb(wheel.resolve(), args.outdir, args.python, args.compression, args.pip_arg)
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
