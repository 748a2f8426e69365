import sys
import tracemalloc
from decimal import Decimal

from pricing_edge.jsonio import dumps, exact, loads_exact


def test_decimals_keep_their_exact_digits_as_json_numbers() -> None:
    assert dumps({"value": Decimal("19.90"), "big": Decimal("1234567890.123456789")}) == \
        b'{"value":19.90,"big":1234567890.123456789}'


def test_round_trip_through_exact_parsing_keeps_digits() -> None:
    raw = b'{"a":[1,2.50,{"b":0.1000000000000000055511151231257827}]}'
    assert dumps(loads_exact(raw)) == raw
    assert loads_exact(raw)["a"][0] == 1 and isinstance(loads_exact(raw)["a"][0], int)


def test_bytes_a_cache_keeps_take_their_own_length_not_the_serializers_buffer() -> None:
    value = {"price": {"value": Decimal("12.50"), "currencyCode": "USD"}, "isInStock": True}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [exact(dumps(value)) for _ in range(100)]
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept[0] == dumps(value)
    assert held < 100 * (sys.getsizeof(kept[0]) + 16)  # what sys.getsizeof, and so the caches' estimate, says
