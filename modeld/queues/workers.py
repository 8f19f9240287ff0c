"""One bounded worker pool per physical device, with priorities, pause and progress.

- A job goes to the pool of the device its path lives on (devices.py). A pool
  runs at most `readers[kind]` jobs at once: one on a spinning disk (two
  readers on one spindle are slower than one), two on an SSD, one on a
  network share or an unknown device. Pools on different devices run in
  parallel; threads are started on demand and leave after `idle_seconds`.
- Priorities are integers, lower first (`PRIORITY_USER` before
  `PRIORITY_BACKGROUND`); equal priorities run in submission order.
- Bounded: each priority level holds at most `max_pending` waiting jobs, so a
  full background level never delays a user's import. `submit` refuses
  (returns None) or, with `block=True`, waits for room; the watch service keeps
  refused files settled and offers them again, so a burst of any size costs
  bounded memory and loses nothing.
- `pause()` holds every queue; running jobs finish. `stop()` stops taking
  work, sets `cancelled` on running jobs (a long copy may roll back early),
  cancels the waiting ones and waits for the workers.
- A job reports progress through `job.progress(done, total)`; `snapshot()`
  is the contract's status "queues" list.
- `run` may return a Future: the job then finishes (and stays active) until
  it completes, while its worker goes on to the next job. The importer does
  this to commit the units its workers staged in groups.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modeld.config import QueueConfig
from modeld.queues.devices import Device, DeviceResolver
from modeld.queues.errors import JobCancelled

log = logging.getLogger(__name__)

PRIORITY_USER = 0
PRIORITY_BACKGROUND = 10


class Job:
    """One unit of work bound to one device; `run` receives it."""

    def __init__(self, path: Path, priority: int, payload: Any, device: Device):
        self.path = path
        self.priority = priority
        self.payload = payload
        self.device = device
        self.done = 0
        self.total = 0
        self.cancelled = threading.Event()  # the queues are stopping: finish or roll back soon
        self.finished = threading.Event()
        self.error: BaseException | None = None

    def progress(self, done: int, total: int | None = None) -> None:
        """Bytes done (and the total, when known); cheap enough to call per chunk."""
        self.done = done
        if total is not None:
            self.total = total

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    def __repr__(self) -> str:
        return f"Job({str(self.path)!r}, priority={self.priority}, device={self.device.name!r})"


@dataclass
class _Pool:
    device: Device
    readers: int
    waiting: list[tuple[int, int, Job]] = field(default_factory=list)  # a heap
    active: list[Job] = field(default_factory=list)
    threads: set[threading.Thread] = field(default_factory=set)


class DeviceQueues:
    def __init__(
        self,
        config: QueueConfig,
        run: Callable[[Job], object],
        *,
        device_of: Callable[[Path], Device] | None = None,
        idle_seconds: float = 60.0,
    ):
        self._config = config
        self._run = run
        self._device_of = device_of or DeviceResolver(config.device_kinds).device_of
        self._idle_seconds = idle_seconds
        self._cond = threading.Condition()
        self._pools: dict[str, _Pool] = {}
        self._waiting_per_level: dict[int, int] = {}
        self._seq = itertools.count()
        self._started = False
        self._stopping = False
        self._paused = False

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        """Begin running jobs (jobs submitted before wait for this)."""
        with self._cond:
            self._started = True
            for pool in self._pools.values():
                self._spawn(pool)

    def pause(self) -> None:
        with self._cond:
            self._paused = True
        log.info("queues paused")

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            for pool in self._pools.values():
                self._spawn(pool)
            self._cond.notify_all()
        log.info("queues resumed")

    @property
    def paused(self) -> bool:
        return self._paused

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop taking work, cancel what waits, wait up to `timeout` for running jobs.

        Returns True when every worker finished in time.
        """
        with self._cond:
            self._stopping = True
            threads = [t for pool in self._pools.values() for t in pool.threads]
            for pool in self._pools.values():
                for job in pool.active:
                    job.cancelled.set()
                for _, _, job in pool.waiting:
                    job.error = JobCancelled("modeld stopped before this job started")
                    job.cancelled.set()
                    job.finished.set()
                pool.waiting.clear()
            self._waiting_per_level.clear()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:  # jobs their workers handed on (staged units being committed)
            self._cond.wait_for(
                lambda: not any(pool.active for pool in self._pools.values()),
                max(0.0, deadline - time.monotonic()),
            )
        stuck = [t.name for t in threads if t.is_alive()]
        if stuck:
            log.warning("queues: %d job(s) still running at shutdown: %s", len(stuck), stuck)
        return not stuck

    # -- work ------------------------------------------------------------------------------

    def submit(
        self,
        path: Path,
        *,
        priority: int = PRIORITY_BACKGROUND,
        payload: Any = None,
        block: bool = False,
        timeout: float | None = None,
    ) -> Job | None:
        """Queue a job for the device of `path`; None when its level is full (or stopping)."""
        try:
            device = self._device_of(path)
        except Exception:  # a resolver bug must not lose the file: queue it as unknown
            log.exception("cannot resolve the device of %s", path)
            device = Device("unknown", "unknown")

        def room() -> bool:
            waiting = self._waiting_per_level.get(priority, 0)
            return self._stopping or waiting < self._config.max_pending

        with self._cond:
            if not room() and not (block and self._cond.wait_for(room, timeout)):
                return None
            if self._stopping:
                return None
            job = Job(path, priority, payload, device)
            pool = self._pools.get(device.name)
            if pool is None:
                readers = max(1, int(self._config.readers.get(device.kind, 1)))
                pool = self._pools[device.name] = _Pool(device, readers)
            heapq.heappush(pool.waiting, (priority, next(self._seq), job))
            self._waiting_per_level[priority] = self._waiting_per_level.get(priority, 0) + 1
            self._spawn(pool)
            self._cond.notify_all()
            return job

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing waits or runs (or `timeout`); True when idle."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not any(pool.waiting or pool.active for pool in self._pools.values()),
                timeout,
            )

    # -- status ----------------------------------------------------------------------------

    def snapshot(self) -> list[dict[str, Any]]:
        """The contract's status "queues": one entry per device that has or had work."""
        with self._cond:
            return [
                {
                    "device": pool.device.name,
                    "kind": pool.device.kind,
                    "readers": pool.readers,
                    "pending": len(pool.waiting),
                    "active": [
                        {"path": str(job.path), "done": job.done, "total": job.total}
                        for job in pool.active
                    ],
                }
                for pool in sorted(self._pools.values(), key=lambda p: p.device.name)
            ]

    def pending(self) -> int:
        with self._cond:
            return sum(len(pool.waiting) for pool in self._pools.values())

    def health(self) -> bool:
        """False when a worker thread died (it only exits on its own after idling)."""
        with self._cond:
            return all(t.is_alive() for pool in self._pools.values() for t in pool.threads)

    # -- workers ---------------------------------------------------------------------------

    def _spawn(self, pool: _Pool) -> None:
        """Start workers up to the pool's readers and the work there is (lock held)."""
        if not self._started or self._stopping or self._paused:
            return
        wanted = min(pool.readers, len(pool.waiting) + len(pool.active))
        while len(pool.threads) < wanted:
            thread = threading.Thread(
                target=self._worker,
                args=(pool,),
                name=f"modeld-queue-{pool.device.name}-{len(pool.threads)}",
                daemon=True,
            )
            pool.threads.add(thread)
            thread.start()

    def _worker(self, pool: _Pool) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                idle_since = time.monotonic()
                while not self._stopping and (self._paused or not pool.waiting):
                    idle = time.monotonic() - idle_since
                    if not pool.waiting and idle >= self._idle_seconds:
                        self._retire(pool, me)
                        return
                    self._cond.wait(self._idle_seconds - idle if not pool.waiting else None)
                if self._stopping:
                    self._retire(pool, me)
                    return
                _, _, job = heapq.heappop(pool.waiting)
                self._waiting_per_level[job.priority] -= 1
                pool.active.append(job)
                self._cond.notify_all()  # room for a blocked submitter
            try:
                result = self._run(job)
            except Exception as exc:  # one job's bug must cost one job, not the worker
                job.error = exc
                log.exception("job %s failed", job.path)
                result = None
            except BaseException:  # the worker dies (health() says so); the job still ends
                self._finish(pool, job)
                raise
            if isinstance(result, Future):
                # finishes later (a group commit): the worker takes the next job now
                result.add_done_callback(functools.partial(self._finish_when_done, pool, job))
            else:
                self._finish(pool, job)

    def _finish_when_done(self, pool: _Pool, job: Job, _done: Future[Any]) -> None:
        self._finish(pool, job)

    def _finish(self, pool: _Pool, job: Job) -> None:
        with self._cond:
            pool.active.remove(job)
            job.finished.set()
            idle = not pool.threads and not pool.waiting and not pool.active
            if idle and not self._stopping and self._pools.get(pool.device.name) is pool:
                del self._pools[pool.device.name]  # its workers retired meanwhile
            self._cond.notify_all()

    def _retire(self, pool: _Pool, thread: threading.Thread) -> None:
        """A worker leaves its pool (lock held); an empty, idle pool leaves the status."""
        pool.threads.discard(thread)
        if not pool.threads and not pool.waiting and not pool.active and not self._stopping:
            self._pools.pop(pool.device.name, None)
