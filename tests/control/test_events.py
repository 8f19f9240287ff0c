"""The event schema: typed in the daemon, the same JSON on the socket as before."""

from __future__ import annotations

import pytest

from modeld.control import events
from modeld.control.bus import PROGRESS_INTERVAL, EventBus
from modeld.control.protocol import encode

T = 1_900_000_000.5
MODEL = {"id": "a1b2", "name": "Model", "model_type": "checkpoint", "family": "sdxl"}

# each event, and the exact line the daemon sent for it when events were dicts
WIRE = [
    (events.StateChanged("paused"), b'{"time":T,"event":"state","state":"paused"}'),
    (
        events.ImportStarted("/drop/a.gguf", 1000),
        b'{"time":T,"event":"import_started","path":"/drop/a.gguf","total":1000}',
    ),
    (
        events.Progress("/drop/a.gguf", 10, 1000),
        b'{"time":T,"event":"progress","path":"/drop/a.gguf","done":10,"total":1000}',
    ),
    (
        events.Imported("/drop/a.gguf", MODEL),
        b'{"time":T,"event":"imported","path":"/drop/a.gguf","model":{"id":"a1b2",'
        b'"name":"Model","model_type":"checkpoint","family":"sdxl"}}',
    ),
    (
        events.Attached("/drop/a.png", "a1b2"),
        b'{"time":T,"event":"attached","path":"/drop/a.png","id":"a1b2"}',
    ),
    (
        events.Duplicate("/drop/b.gguf", "a1b2"),
        b'{"time":T,"event":"duplicate","path":"/drop/b.gguf","id":"a1b2"}',
    ),
    (
        events.Quarantined("/drop/x.pt", "os.system"),
        b'{"time":T,"event":"quarantined","path":"/drop/x.pt","reason":"os.system"}',
    ),
    (
        events.Failed("/drop/\udcff.bin", "not a model"),
        b'{"time":T,"event":"failed","path":"/drop/\\udcff.bin","reason":"not a model"}',
    ),
    (
        events.Waiting("/drop/c.gguf", "truncated"),
        b'{"time":T,"event":"waiting","path":"/drop/c.gguf","reason":"truncated"}',
    ),
    (
        events.LinksRepaired(3, 1),
        b'{"time":T,"event":"links_repaired","fixed":3,"unfixed":1}',
    ),
    (
        events.HubState("offline", 59.5),
        b'{"time":T,"event":"hub","state":"offline","next_try":59.5}',
    ),
    (events.HubState("online", None), b'{"time":T,"event":"hub","state":"online","next_try":null}'),
    (
        events.HubMatch("a1b2", "org/Model"),
        b'{"time":T,"event":"hub_match","id":"a1b2","repo_id":"org/Model"}',
    ),
    (events.LibraryState("offline"), b'{"time":T,"event":"library","state":"offline"}'),
]


@pytest.mark.parametrize(("event", "line"), WIRE, ids=[type(e).__name__ for e, _ in WIRE])
def test_every_event_is_the_same_line_on_the_socket(event, line, monkeypatch):
    monkeypatch.setattr("modeld.control.bus.time.time", lambda: T)
    bus = EventBus()
    subscription = bus.subscribe()
    bus.publish(event)
    assert encode(subscription.get_nowait()) == line.replace(b"T", str(T).encode(), 1) + b"\n"


@pytest.mark.parametrize(("event", "_line"), WIRE, ids=[type(e).__name__ for e, _ in WIRE])
def test_a_client_reads_each_line_back_into_its_event(event, _line):
    assert events.parse_event({"time": T, **event.to_json()}) == event


def test_an_unknown_kind_or_a_missing_field_is_no_event():
    assert events.parse_event({"event": "teleported", "path": "/x"}) is None
    assert events.parse_event({"event": "progress", "path": "/x", "done": 1}) is None
    assert events.parse_event({"path": "/x"}) is None


def test_listeners_see_every_progress_subscribers_a_few_a_second_and_the_last():
    now = [100.0]
    bus = EventBus(clock=lambda: now[0])
    seen: list[events.Event] = []
    bus.listen(seen.append)
    subscription = bus.subscribe()
    for done in range(1, 5):  # four in one instant: the first goes out
        bus.publish(events.Progress("/d/a", done, 10))
    now[0] += PROGRESS_INTERVAL
    bus.publish(events.Progress("/d/a", 5, 10))
    bus.publish(events.Progress("/d/a", 10, 10))  # the finished one always goes
    bus.publish(events.Imported("/d/a", MODEL))
    bus.publish(events.Progress("/d/a", 1, 10))  # a new import of that path starts fresh
    sent = []
    while not subscription.empty():
        sent.append(subscription.get_nowait())
    assert len(seen) == 8
    assert [(m["event"], m.get("done")) for m in sent] == [
        ("progress", 1),
        ("progress", 5),
        ("progress", 10),
        ("imported", None),
        ("progress", 1),
    ]
