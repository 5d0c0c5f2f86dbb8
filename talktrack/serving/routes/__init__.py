"""The service's routes, one module per area; :data:`ROUTERS` is what the app mounts."""

from talktrack.serving.routes import health, scoring, search, tracks

ROUTERS = (health.router, search.router, tracks.router, scoring.router)
