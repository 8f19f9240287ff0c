"""Per-device worker queues: which device a path lives on, and one bounded pool per device."""

from modeld.queues.devices import Device, DeviceResolver
from modeld.queues.errors import JobCancelled
from modeld.queues.workers import PRIORITY_BACKGROUND, PRIORITY_USER, DeviceQueues, Job

__all__ = [
    "PRIORITY_BACKGROUND",
    "PRIORITY_USER",
    "Device",
    "DeviceQueues",
    "DeviceResolver",
    "Job",
    "JobCancelled",
]
