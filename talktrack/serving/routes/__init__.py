"""The service's routes, one module per area; :data:`ROUTERS` is what the app mounts."""

from talktrack.serving.routes import (
    calls,
    capability,
    compliance,
    crm,
    drills,
    health,
    jobs,
    scoring,
    search,
    tracks,
)

ROUTERS = (
    health.router,
    search.router,
    tracks.router,
    scoring.router,
    calls.router,
    jobs.router,
    capability.router,
    compliance.router,
    crm.router,
    drills.router,
)
