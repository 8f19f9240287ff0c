"""An enricher wired to a real importer and index, as the daemon wires them; model files
the fake Hub can hold. Shared by the hub tests (fixtures in conftest.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from modeld.after_import import after_import_steps
from modeld.config import Config
from modeld.hub import HubEnricher
from modeld.hub.client import HubPolicy
from modeld.hub.retry import RetryPolicy
from modeld.ingest.pipeline import Importer
from modeld.library.metadata import read_metadata
from tests.hub.fakehub import FakeHub
from tests.modelfiles import write_gguf, write_safetensors

WAIT = 60.0  # only catches a hang: a loaded 2-core CI machine can be slow


# Short retries and cool-downs; the HTTP timeout is long because it only stops a
# hang (a 2 s one fired on a loaded machine and turned a lookup into a failure).
FAST = HubPolicy(
    timeout=WAIT,
    retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02, max_retry_after=5),
    breaker_threshold=2,
    breaker_cooldown=60.0,
)


def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class Setup:
    """An enricher wired to an importer the way the daemon wires them."""

    def __init__(self, config: Config, policy: HubPolicy = FAST):
        self.events: list[dict] = []  # as the socket would carry them
        self.enricher = HubEnricher(
            config, on_event=lambda event: self.events.append(event.to_json()), policy=policy
        )
        self.importer = Importer(config, after_import=after_import_steps(None, self.enricher))
        self.config = config

    def import_file(self, path: Path) -> dict:
        report = self.importer.import_paths([path], copy=False)
        assert report.failed == [] and len(report.imported) == 1, report
        return report.imported[0]

    def metadata(self, model: dict):
        return read_metadata(Path(model["path"]))


def tiny_gguf(folder: Path, name: str = "Tiny-Llama-1B-Chat") -> Path:
    return write_gguf(
        folder / f"{name}.Q4_K_M.gguf",
        name=name.replace("-", " "),
        extra_kv={"general.source.huggingface.repository": f"acme/{name}"},
    )


def sdxl_file(folder: Path, name: str) -> Path:
    return write_safetensors(
        folder / f"{name}.safetensors",
        {"conditioner.embedders.0.transformer.text_model.embeddings.weight": ("F16", (4, 8))},
        metadata={"modelspec.architecture": "stable-diffusion-xl-v1-base", "made_by": name},
    )


def hub_env(fakehub: FakeHub) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN")}
    return {**env, "HF_ENDPOINT": fakehub.url, "HF_HUB_DISABLE_TELEMETRY": "1"}


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64  # a PNG's signature and header
