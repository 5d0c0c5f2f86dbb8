"""How many CPU threads torch's small models get.

On a small shared CPU, handing one short input to several torch (OpenMP) threads costs far
more than the work: resemblyzer's LSTM on 2 threads ran up to 20x slower (15 s instead of
0.7 s for 60 s of audio) while other processes kept the 2 cores busy, spinning threads waiting
on descheduled peers; MiniLM on one drill sentence took 1.1 s on 2 busy threads against 30 ms
on one (measured 2026-11-27). One thread is as fast when the cores are idle.

Not threadpoolctl: entering its limits rescans every loaded library (~200 ms once torch is
loaded), which a per-request path cannot pay.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run torch's CPU ops on ``count`` intra-op threads, then restore the old number.

    The setting is process-wide: other threads' torch work runs with it meanwhile.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
