"""The service's routes, one module per area; :data:`ROUTERS` is what the app mounts.

A route module may also define ``on_startup(service)`` and ``on_shutdown(service)``: the app
calls them once the catalog is open and before it closes (e.g. to start a job worker).
"""

from talktrack.serving.routes import (
    anomalies,
    calls,
    capability,
    compliance,
    conversations,
    credibility,
    crm,
    deal_view,
    deals,
    drills,
    health,
    jobs,
    management_brief,
    management_process,
    mentoring,
    quotes,
    revenue,
    sandbox,
    voice_notes,
    scoring,
    search,
    tracks,
)

ROUTE_MODULES = (health, search, tracks, scoring, calls, jobs, capability, compliance, crm, deals, quotes, voice_notes,
                 drills, revenue, management_process, management_brief, anomalies, credibility, conversations, deal_view,
                 mentoring, sandbox)
ROUTERS = tuple(module.router for module in ROUTE_MODULES)
