"""Start (or join) Ray the way TalkTrack needs it: quiet, local by default, GPUs counted.

Ray's defaults write to ``/tmp/ray`` and phone home; we pass a temp dir of our own and
switch usage stats off. A cluster is joined by address (``HOST:PORT`` of its head, ``auto``,
or ``ray://head:10001``); see :func:`start_ray` for what joining needs.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from talktrack.core.config import RaySettings

# What joining a cluster needs, told when joining fails.
START_HINT = "start the head with `ray start --head --port PORT` and pass `--ray-address HEAD:PORT`"
TOKEN_HINT = (
    "the cluster has token authentication on and this driver has no matching token: put the "
    "cluster's token in ~/.ray/auth_token, the file named by RAY_AUTH_TOKEN_PATH, or RAY_AUTH_TOKEN"
)
PROBE_TIMEOUT_S = 5.0


class RayClusterError(ConnectionError):
    """The Ray cluster at the configured address could not be joined; the message says why."""


@dataclass(frozen=True)
class RayResources:
    cpus: float
    gpus: float

    @property
    def has_gpu(self) -> bool:
        return self.gpus >= 1


def start_ray(settings: RaySettings, *, address: str | None = None) -> RayResources:
    """Initialise Ray once per process and report the resources it sees.

    With ``address`` (or ``settings.address``) the driver joins that cluster, else it starts a
    local Ray. Joining: Ray reaches a loopback address (``127.0.0.1:PORT``) at the machine's
    interface address and keeps every node there, so errors name that address; what actually
    refuses a driver is token authentication, which ``ray start`` turns on by itself wherever a
    token exists (``~/.ray/auth_token``, written by any local Ray run, TalkTrack's included),
    while Ray's own driver never sends one for an explicit address. So the driver sends the
    token whenever one is found (``RAY_AUTH_MODE=disabled`` opts out); a cluster without
    authentication ignores it. A failure raises :class:`RayClusterError` naming the address.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Token auth stays on (the local cluster listens beyond loopback); only its notice is hushed.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    import ray

    if not ray.is_initialized():
        target = address or settings.address
        if target:
            _join_cluster(target)
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


def _join_cluster(address: str) -> None:
    """Connect this driver to the running cluster at ``address`` (see :func:`start_ray`)."""
    import ray
    # Ray's own rule for a cluster found with address="auto", applied to an explicit address too
    # (ray/_private/worker.py: "an explicit address ... never does"): without it, a driver cannot
    # join a `ray start` cluster on a machine where any Ray ran before (InvalidAuthToken).
    from ray._private.authentication.authentication_token_setup import (
        maybe_enable_token_auth_if_token_available,
    )

    _probe(address)
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    try:
        ray.init(address=address, log_to_driver=False, include_dashboard=False)
    # ValueError: a malformed address, or ray:// without the ray[client] extra
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
        raise RayClusterError(f"cannot join the Ray cluster at {address}: {_join_failure(exc)}") from exc


def _probe(address: str) -> None:
    """Fail at once when nothing listens at a ``HOST:PORT`` address: Ray itself retries
    for about 14 minutes (20 tries of ~40 s) before it gives up."""
    import socket

    if "://" in address or ":" not in address:  # ray://, "auto": Ray resolves those itself
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S).close()
    except (OSError, ValueError) as exc:
        reason = f"nothing answers there ({exc}); {START_HINT}"
        raise RayClusterError(f"cannot join the Ray cluster at {address}: {reason}") from exc


def _join_failure(exc: BaseException) -> str:
    """Why joining failed, in one line: Ray's own message names the interface address it tried
    and hides an authentication refusal inside the text of a cause."""
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    if any("InvalidAuthToken" in str(link) or "AuthenticationError" in str(link) for link in chain):
        return TOKEN_HINT
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    return f"{first.rstrip('.')}; {START_HINT}"


def _short_temp_dir() -> Path:
    """Ray's socket paths must stay under ~107 bytes, so keep its temp dir short."""
    path = Path(tempfile.gettempdir()) / f"talktrack-ray-{os.getuid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path
