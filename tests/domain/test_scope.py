import pytest

from pricing_edge.domain.scope import PriceListAssignments


def test_groups_map_to_their_price_lists_and_others_to_the_default() -> None:
    assignments = PriceListAssignments.parse("0:1, 1:2,2:3", default_price_list_id=1)
    assert assignments.price_list_for(1) == 2
    assert assignments.price_list_for(None) == 1
    assert assignments.price_list_for(42) == 1


def test_buyers_of_one_group_share_a_key_and_the_buyer_is_not_in_it() -> None:
    assignments = PriceListAssignments.parse("1:2", 1)
    a = assignments.scope(1, 1, "USD", customer_id=10, company_id=3)
    b = assignments.scope(1, 1, "USD", customer_id=11, company_id=4)
    assert a.key == b.key and "10" not in a.key
    assert assignments.scope(1, 2, "USD").key != a.key
    assert assignments.scope(1, 1, "EUR").key != a.key


def test_groups_on_one_price_list_do_not_share_a_key_because_visibility_differs() -> None:
    assignments = PriceListAssignments.parse("1:2,5:2", 1)
    assert assignments.scope(1, 1, "USD").key != assignments.scope(1, 5, "USD").key


@pytest.mark.parametrize("bad", ["1", "a:2", "1:b", "1:2:3"])
def test_malformed_assignments_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        PriceListAssignments.parse(bad, 1)
