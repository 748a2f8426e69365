"""The store's fixed-window counter (per-client limits count with it): shared by every client of the
store, starting over once its window has passed."""
from __future__ import annotations

from pricing_edge.store.base import Store
from tests.support.polling import async_wait_until


async def test_counts_add_up_per_key_and_start_over_after_the_window(store: Store) -> None:
    assert [await store.count("tokens:a", 60) for _ in range(3)] == [1, 2, 3]
    assert await store.count("tokens:b", 60) == 1
    assert await store.count("short", 0.3) == 1
    assert await store.count("short", 0.3) == 2

    async def started_over() -> bool:
        return await store.count("short", 0.3) == 1

    await async_wait_until(started_over, timeout=15, what="the window to pass")
    assert await store.count("tokens:a", 60) == 4  # the long window still runs
