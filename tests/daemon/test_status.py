"""What the daemon keeps for `status`: counts, recent imports, errors."""


def test_the_error_log_keeps_the_newest_with_path_reason_and_time():
    from modeld.errorlog import ErrorLog

    errors = ErrorLog(limit=60)
    for n in range(75):
        errors.add(f"/drop/f{n}.safetensors", f"reason {n}", 1_900_000_000.0 + n)
    errors.add(None, "job rescan failed: boom", 1_900_000_100.0)
    document = errors.to_json()
    assert len(document) == 60  # bounded, and above the contract's newest 50
    assert document[0] == {
        "path": "/drop/f16.safetensors",
        "reason": "reason 16",
        "time": "2030-03-17T17:46:56+00:00",
    }
    assert document[-1]["path"] is None and document[-1]["reason"] == "job rescan failed: boom"


def test_the_board_counts_each_outcome_and_keeps_the_newest_imports_first():
    from modeld.control import events
    from modeld.daemon.status import RECENT, Counts, StatusBoard

    board = StatusBoard()
    for n in range(RECENT + 2):
        model = {"id": f"m{n}", "model_type": "lora", "family": "sdxl"}
        board.observe(events.Imported(f"/drop/m{n}.safetensors", model))
    board.observe(events.Duplicate("/drop/copy.safetensors", "m0"))
    board.observe(events.Quarantined("/drop/evil.pt", "os.system"))
    board.observe(events.Failed("/drop/bad.gguf", "truncated header"))
    board.observe(events.Waiting("/drop/half.gguf", "truncated"))  # not a failure
    board.observe(events.Progress("/drop/m0.safetensors", 1, 2))
    assert board.counts() == Counts(imported=RECENT + 2, duplicates=1, quarantined=1, failed=1)
    assert [m["id"] for m in board.recent()] == [f"m{n}" for n in range(RECENT + 1, 1, -1)]
    [error] = board.errors.to_json()
    assert error["path"] == "/drop/bad.gguf" and error["reason"] == "truncated header"


def test_the_status_line_says_what_waits_and_what_came_in(config):
    from modeld.control import events
    from modeld.daemon.status import StatusBoard, status_line
    from modeld.queues import DeviceQueues

    board = StatusBoard()
    board.observe(events.Imported("/drop/a.gguf", {"id": "a", "model_type": "llm", "family": "x"}))
    queues = DeviceQueues(config.queues, run=lambda job: None)  # never started: jobs wait
    queues.submit(config.library_root / "a.gguf")
    assert status_line(board, queues) == "watching; 1 queued; 1 imported"
    queues.pause()
    assert status_line(board, queues) == "paused; 1 queued; 1 imported"
