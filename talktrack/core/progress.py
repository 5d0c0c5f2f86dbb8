"""The one shape of a progress callback: ``progress(step, done, total)``.

Long work (import, index builds, mining, backups, world generation) reports through it, and
the CLI turns the calls into rich progress bars; library code never draws anything itself.
``step`` names what is being counted ("embed", "calls", ...), ``done`` of ``total`` so far.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
