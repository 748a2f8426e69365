from pricing_edge.edge.response_cache import ResponseCache, price_tag, stock_tag


def test_an_invalidated_tag_drops_exactly_the_answers_that_used_it() -> None:
    cache = ResponseCache(ttl=60)
    cache.put("plp-wholesale", b"a", [price_tag(2, "A"), stock_tag("A")])
    cache.put("plp-retail", b"b", [price_tag(1, "A"), stock_tag("A")])
    cache.put("pdp-wholesale", b"c", [price_tag(2, "B")])
    assert cache.invalidate([price_tag(2, "A")]) == 1
    assert cache.get("plp-wholesale") is None
    assert cache.get("plp-retail") == b"b" and cache.get("pdp-wholesale") == b"c"
    assert cache.invalidate([stock_tag("A")]) == 1
    assert cache.get("plp-retail") is None and cache.get("pdp-wholesale") == b"c"


def test_the_tag_index_stays_bounded_when_entries_are_evicted() -> None:
    cache = ResponseCache(ttl=60, size=4)
    for i in range(200):
        cache.put(i, b"x", [price_tag(1, f"SKU-{i}")])
    assert len(cache) == 4
    assert len(cache._by_tag) <= 8 * 4 + 1


def test_an_answer_computed_before_an_invalidation_is_not_kept() -> None:
    cache = ResponseCache(ttl=60)
    started = cache.generation
    cache.invalidate([price_tag(2, "A")])
    assert not cache.put("plp", b"old", [price_tag(2, "A")], generation=started)
    assert cache.get("plp") is None
    assert cache.put("plp", b"new", [price_tag(2, "A")], generation=cache.generation)
