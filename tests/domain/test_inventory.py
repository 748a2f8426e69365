from pricing_edge.domain.inventory import StockLevel, total_available


def test_available_to_sell_subtracts_allocated_and_safety_stock() -> None:
    assert StockLevel("A", 1, on_hand=20, allocated=5, safety_stock=3).available_to_sell == 12


def test_available_to_sell_is_never_negative() -> None:
    assert StockLevel("A", 1, on_hand=2, allocated=5, safety_stock=3).available_to_sell == 0


def test_total_sums_locations() -> None:
    assert total_available([StockLevel("A", 1, 10), StockLevel("A", 2, 5, allocated=6)]) == 10
