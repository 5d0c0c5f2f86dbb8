"""Start (or join) Ray the way TalkTrack needs it: quiet, local by default, GPUs counted.

Ray's defaults write to ``/tmp/ray`` and phone home; we pass a temp dir of our own and
switch usage stats off. A cluster is joined by address (``ray://head:10001`` or ``auto``).
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from talktrack.core.config import RaySettings


@dataclass(frozen=True)
class RayResources:
    cpus: float
    gpus: float

    @property
    def has_gpu(self) -> bool:
        return self.gpus >= 1


def start_ray(settings: RaySettings, *, address: str | None = None) -> RayResources:
    """Initialise Ray once per process and report the resources it sees."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Token auth stays on (the local cluster listens beyond loopback); only its notice is hushed.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    import ray

    if not ray.is_initialized():
        target = address or settings.address
        if target:
            ray.init(address=target, log_to_driver=False, include_dashboard=False)
        else:
            ray.init(
                num_cpus=settings.num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
                _temp_dir=str(_short_temp_dir()),
            )
    available = ray.cluster_resources()
    return RayResources(cpus=float(available.get("CPU", 1)), gpus=float(available.get("GPU", 0)))


def stop_ray() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


def _short_temp_dir() -> Path:
    """Ray's socket paths must stay under ~107 bytes, so keep its temp dir short."""
    path = Path(tempfile.gettempdir()) / f"talktrack-ray-{os.getuid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path
