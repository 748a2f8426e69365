from decimal import Decimal

from pricing_edge.jsonio import dumps, loads_exact


def test_decimals_keep_their_exact_digits_as_json_numbers() -> None:
    assert dumps({"value": Decimal("19.90"), "big": Decimal("1234567890.123456789")}) == \
        b'{"value":19.90,"big":1234567890.123456789}'


def test_round_trip_through_exact_parsing_keeps_digits() -> None:
    raw = b'{"a":[1,2.50,{"b":0.1000000000000000055511151231257827}]}'
    assert dumps(loads_exact(raw)) == raw
    assert loads_exact(raw)["a"][0] == 1 and isinstance(loads_exact(raw)["a"][0], int)
