"""The worker pool's fork server imports this first: its threads, and every worker's,
then share one glibc arena, which an idle worker's ``malloc_trim`` gives back whole
(``worker_pool.MALLOC_ARENAS`` says why). The system's own process calls it at its start
(``LocalSystem.start``)."""

from __future__ import annotations

from sluice.local.worker_pool import share_one_malloc_arena

share_one_malloc_arena()
