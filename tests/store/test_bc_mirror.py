"""What the worker remembers of BigCommerce's copy, in memory and in a real Redis: fingerprints per record,
doubts of unconfirmed batches, and forgetting (a full re-read)."""
from __future__ import annotations

from pricing_edge.domain.bc_mirror import Known
from pricing_edge.store.base import Store
from pricing_edge.store.bc_mirror import LocalMirrorState, RedisMirrorState, mirror_state


async def test_fingerprints_doubts_and_forgetting(store: Store) -> None:
    state = mirror_state(store, "demo")
    assert isinstance(state, RedisMirrorState if store.kind == "redis" else LocalMirrorState)
    keys = [f"1:USD:SKU-{n}" for n in range(1500)]  # more than one chunk of HMGET
    assert set((await state.known("prices", keys)).values()) == {None}
    await state.doubt("prices", keys[:3])
    assert await state.doubts("prices") == sorted(keys[:3])
    await state.remember("prices", {keys[0]: Known(7, "aa"), keys[1]: None, **{k: Known(1, "bb") for k in keys[3:]}})
    assert await state.doubts("prices") == [keys[2]]  # only what was remembered is no longer in doubt
    known = await state.known("prices", keys)
    assert known[keys[0]] == Known(7, "aa") and known[keys[1]] is None and known[keys[1499]] == Known(1, "bb")
    assert (await state.known("inventory", keys[:1])) == {keys[0]: None}  # kinds are apart
    await state.forget("prices")
    assert set((await state.known("prices", keys)).values()) == {None}
    assert await state.doubts("prices") == [keys[2]]  # a doubt outlives forgetting: it is settled by a re-read
