"""End-to-end: a real `modeld run` watching real folders."""

from __future__ import annotations

import os
import select
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests import modelfiles
from tests.e2e.conftest import BOUND, wait_until

pytestmark = pytest.mark.e2e


def model_bytes(tmp: Path, name: str, rank: int = 4) -> bytes:
    path = modelfiles.lora(tmp / name, rank=rank)
    data = path.read_bytes()
    path.unlink()
    return data


def test_a_dropped_file_is_imported_and_the_inbox_emptied(daemon_factory, home):
    daemon = daemon_factory()
    nested = daemon.drop / "org" / "repo"
    nested.mkdir(parents=True)
    source = modelfiles.lora(nested / "detail.safetensors")
    data = source.read_bytes()
    models = wait_until(lambda: daemon.models(), what="the import")
    assert len(models) == 1
    assert Path(models[0]["files"][0]["path"]).read_bytes() == data
    wait_until(lambda: not (daemon.drop / "org").exists(), what="the emptied folders to go")
    assert daemon.drop.is_dir()
    status = daemon.status()
    assert status["imported"] == 1 and status["state"] == "running"
    assert daemon.stop() == 0


def test_a_preview_dropped_after_its_model_joins_it_and_its_link(daemon_factory, home):
    comfy = home / "ComfyUI"
    (comfy / "models" / "loras").mkdir(parents=True)
    daemon = daemon_factory(f'\n[[app]]\nkind = "comfyui"\npath = "{comfy}"\n')
    outside = home / "outside"
    outside.mkdir()
    modelfiles.lora(outside / "ink.safetensors").rename(daemon.drop / "ink.safetensors")
    loras = comfy / "models" / "loras"
    wait_until(lambda: (loras / "ink.safetensors").is_symlink(), what="the model's link")
    (outside / "ink.preview.png").write_bytes(b"\x89PNG\r\n\x1a\nlate")
    (outside / "ink.preview.png").rename(daemon.drop / "ink.preview.png")
    wait_until(lambda: (loras / "ink.preview.png").is_symlink(), what="the preview's link")
    [model] = daemon.models()
    assert sorted(Path(f["path"]).name for f in model["files"]) == [
        "ink.preview.png",
        "ink.safetensors",
    ]
    assert (loras / "ink.preview.png").read_bytes() == b"\x89PNG\r\n\x1a\nlate"
    assert os.listdir(daemon.drop) == []
    assert daemon.stop() == 0


def test_a_preview_added_beside_a_model_on_a_copy_mode_drive_joins_it(daemon_factory, home):
    drive = home / "drive"
    drive.mkdir()
    daemon = daemon_factory(f'\n[[watch]]\npath = "{drive}"\nmode = "copy"\n')
    outside = home / "outside"
    outside.mkdir()
    modelfiles.lora(outside / "ink.safetensors").rename(drive / "ink.safetensors")
    wait_until(lambda: daemon.models(), what="the model's import")
    (outside / "ink.preview.png").write_bytes(b"\x89PNG\r\n\x1a\nlate")
    (outside / "ink.preview.png").rename(drive / "ink.preview.png")

    def preview_joined() -> bool:
        [model] = daemon.models()
        return any(Path(f["path"]).name == "ink.preview.png" for f in model["files"])

    wait_until(preview_joined, what="the preview to join the library copy")
    assert sorted(os.listdir(drive)) == ["ink.preview.png", "ink.safetensors"]  # sources stay
    assert daemon.stop() == 0


def test_slow_writer_pausing_mid_file_is_not_imported_early(daemon_factory, home):
    daemon = daemon_factory()
    data = model_bytes(home, "slow.safetensors")
    target = daemon.drop / "slow.safetensors"
    with open(target, "wb") as writer:
        writer.write(data[: len(data) // 2])
        writer.flush()
        time.sleep(4.0)  # a stalled download: longer than the settle period
        assert daemon.models() == [], "imported while the writer still held the file"
        writer.write(data[len(data) // 2 :])
    models = wait_until(lambda: daemon.models(), what="the import after close")
    assert Path(models[0]["files"][0]["path"]).read_bytes() == data
    assert daemon.stop() == 0


def test_part_file_then_rename_is_imported_once_complete(daemon_factory, home):
    daemon = daemon_factory()
    data = model_bytes(home, "dl.safetensors")
    partial = daemon.drop / "dl.safetensors.part"
    partial.write_bytes(data)
    time.sleep(2.5)  # past the settle period: a .part name is never imported
    assert daemon.models() == []
    os.rename(partial, daemon.drop / "dl.safetensors")
    models = wait_until(lambda: daemon.models(), what="the import after rename")
    assert models[0]["name"] == "dl"
    assert daemon.stop() == 0


def test_burst_of_500_files_all_arrive(daemon_factory, home):
    daemon = daemon_factory()
    for n in range(500):
        path = daemon.drop / f"emb-{n:03}.safetensors"
        modelfiles.write_safetensors(path, {"emb_params": ("F32", [1, 8 + n])})
    wait_until(lambda: len(daemon.models()) == 500, bound=180, what="500 imports")
    assert list(daemon.drop.iterdir()) == []
    assert daemon.stop() == 0


def test_catch_up_and_late_watch_folder(daemon_factory, home):
    daemon = daemon_factory(start=False)
    modelfiles.vae(daemon.drop / "while-stopped.safetensors")
    late = home / "late"
    extra = f'\n[[watch]]\npath = "{late}"\nmode = "copy"\n'
    daemon.config_path.write_text(daemon.config_path.read_text() + extra)
    daemon.start()
    wait_until(lambda: len(daemon.models()) == 1, what="the catch-up import")
    status = daemon.status()
    assert {w["path"]: w["state"] for w in status["watching"]}[str(late)] != "watching"

    late.mkdir()
    kept = modelfiles.lora(late / "on-the-drive.safetensors")
    wait_until(lambda: len(daemon.models()) == 2, what="the late folder's file")
    assert kept.exists()  # copy mode: the source stays
    assert daemon.stop() == 0


def test_control_socket_is_private_and_a_second_daemon_refuses(daemon_factory, home):
    daemon = daemon_factory()
    state = home / "state"
    sock = state / "modeld.sock"
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
    second = daemon.cli("run", check=False)
    assert second.returncode == 1
    assert "already running" in second.stderr
    assert "Traceback" not in second.stderr
    assert daemon.status()["state"] == "running"
    assert daemon.stop() == 0


def test_stale_socket_from_a_crash_is_replaced(daemon_factory, home):
    daemon = daemon_factory()
    daemon.process.kill()  # SIGKILL: the socket file stays behind
    daemon.process.wait()
    sock = home / "state" / "modeld.sock"
    assert sock.exists()
    assert daemon.cli("status", check=False).returncode == 3
    daemon.start()
    assert daemon.status()["state"] == "running"
    assert daemon.stop() == 0


def test_sigterm_exits_zero_and_cleans_up(daemon_factory, home):
    daemon = daemon_factory()
    started = time.monotonic()
    assert daemon.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < BOUND
    assert not (home / "state" / "modeld.sock").exists()
    assert daemon.cli("status", check=False).returncode == 3
    # the rotated log in the state dir holds what stderr showed
    log = (home / "state" / "modeld.log").read_text()
    assert "modeld ready" in log and "modeld stopped" in log


def test_pause_holds_the_queue_and_resume_releases_it(daemon_factory, home):
    daemon = daemon_factory()
    assert daemon.cli("pause", "--json").returncode == 0
    assert daemon.status()["state"] == "paused"
    modelfiles.vae(daemon.drop / "held.safetensors")
    wait_until(
        lambda: any(q["pending"] for q in daemon.status()["queues"]), what="the job to queue"
    )
    assert daemon.models() == []
    daemon.cli("resume")
    wait_until(lambda: daemon.models(), what="the import after resume")
    assert daemon.stop() == 0


def test_import_command_goes_through_the_running_daemon(daemon_factory, home):
    daemon = daemon_factory()
    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    source = modelfiles.vae(elsewhere / "vae.safetensors")
    result = daemon.cli("import", str(source), "--copy", "--json")
    assert '"imported"' in result.stdout
    assert source.exists()
    assert daemon.status()["imported"] == 1  # counted by the daemon: it did the work
    assert daemon.stop() == 0


def test_import_through_a_paused_daemon_says_so_and_shows_the_daemons_progress(
    daemon_factory, home
):
    daemon = daemon_factory()
    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    # 64 MiB of real safetensors (a sparse tail): long enough for progress events
    source = modelfiles.write_safetensors(
        elsewhere / "big.safetensors", {"w": ("F32", (16 * 1024 * 1024,))}
    )
    daemon.cli("pause")
    # stderr on a terminal, as a person runs it: the progress line is drawn there only
    controller, terminal = os.openpty()
    try:
        process = subprocess.Popen(
            daemon.command("import", "--copy", str(source)),
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
        )
        os.close(terminal)
        notice = wait_until(lambda: _read_available(controller), what="the paused notice")
        assert "the daemon is paused; this import starts after `modeld resume`" in notice
        daemon.cli("resume")
        stdout, _ = process.communicate(timeout=BOUND)
        assert process.returncode == 0
        assert stdout.startswith("imported")
        drawn = _read_available(controller)
    finally:
        os.close(controller)
    assert "big.safetensors" in drawn and "100.0%" in drawn
    assert daemon.status()["imported"] == 1
    assert daemon.stop() == 0


def _read_available(fd: int) -> str:
    """What the terminal has shown so far (never blocks)."""
    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def test_commands_needing_the_daemon_exit_3_without_one(daemon_factory):
    daemon = daemon_factory(start=False)
    for command in ("status", "pause", "resume"):
        result = daemon.cli(command, check=False)
        assert result.returncode == 3, command
        assert "not running" in result.stderr


def test_kill_9_during_a_1_gib_import_then_restart_recovers(daemon_factory, home):
    from modeld.control.client import call

    daemon = daemon_factory()
    sock = home / "state" / "modeld.sock"
    daemon.cli("pause")
    big = daemon.drop / "big.safetensors"
    modelfiles.write_safetensors(big, {"w": ("U8", [1 << 30])})
    with open(big, "r+b") as handle:  # some real bytes after the header
        handle.seek(4096)
        handle.write(os.urandom(1 << 20))
    size = big.stat().st_size
    with open(big, "rb") as handle:
        head = handle.read(2 << 20)
    wait_until(lambda: any(q["pending"] for q in call(sock, "status")["queues"]), what="queued")
    call(sock, "resume")

    def under_way() -> bool:
        return any(j["done"] > 0 for q in call(sock, "status")["queues"] for j in q["active"])

    wait_until(under_way, what="the import to be under way")
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait()

    daemon.start()
    models = wait_until(lambda: daemon.models(), bound=180, what="the import after restart")
    assert len(models) == 1
    stored = Path(models[0]["files"][0]["path"])
    assert stored.stat().st_size == size
    with open(stored, "rb") as handle:
        assert handle.read(2 << 20) == head
    assert not big.exists()
    assert daemon.stop() == 0


def test_socket_refuses_garbage_and_oversized_requests(daemon_factory, home):
    daemon = daemon_factory()
    path = str(home / "state" / "modeld.sock")
    for payload in (b"not json\n", b'{"v": 1, "cmd": "nope"}\n', b"[1,2]\n"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
            client.sendall(payload)
            reply = client.recv(65536)
        assert b'"ok":false' in reply
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(path)
        try:
            client.sendall(b"x" * (2 * 1024 * 1024))
            reply = client.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            reply = b'"ok":false'
        assert b'"ok":false' in reply
    assert daemon.status()["state"] == "running"
    assert daemon.stop() == 0


def test_status_line_for_humans(daemon_factory):
    daemon = daemon_factory()
    out = daemon.cli("status").stdout
    assert out.startswith("modeld running (pid ")
    assert "hub: disabled" in out
    assert daemon.stop() == 0


def test_run_in_a_desktop_session_brings_the_tray_and_survives_its_failure(daemon_factory):
    """DISPLAY names an X server that does not exist: the tray child says so and
    exits; the daemon carries on. (tests/tray runs the tray on a real Xvfb.)"""
    daemon = daemon_factory(start=False)
    text = daemon.config_path.read_text().replace(
        "[tray]\nenabled = false", "[tray]\nenabled = true"
    )
    daemon.config_path.write_text(text)
    env = {k: v for k, v in os.environ.items() if k not in ("INVOCATION_ID", "MODELD_SERVICE")}
    daemon.start(env={**env, "DISPLAY": ":97"})
    wait_until(lambda: "tray icon started" in daemon.log(), what="the tray to start")
    assert daemon.status()["state"] == "running"
    assert daemon.stop() == 0


def test_status_counts_what_waits_in_quarantine_across_restarts(daemon_factory, home):
    daemon = daemon_factory()
    marker = home / "executed"
    modelfiles.write_torch_zip_pickle(
        daemon.drop / "evil.pt", modelfiles.dangerous_pickle("os.system", marker)
    )
    wait_until(lambda: daemon.status()["quarantined"] == 1, what="the quarantine")
    assert daemon.stop() == 0
    daemon.start()
    status = daemon.status()
    assert status["quarantined"] == 1 and status["quarantined_since_start"] == 0
    assert not marker.exists()
    assert daemon.stop() == 0
