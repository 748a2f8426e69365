from hypothesis import given
from hypothesis import strategies as st

from pricing_edge.domain.versioning import final_version, replaces


def test_only_a_newer_version_replaces() -> None:
    assert replaces(5, None)
    assert replaces(6, 5)
    assert not replaces(5, 5)  # a duplicate
    assert not replaces(4, 5)  # late, out of order


@given(st.lists(st.integers(min_value=0, max_value=10**13), min_size=1))
def test_any_delivery_order_ends_at_the_newest_version(versions: list[int]) -> None:
    assert final_version(versions) == max(versions)
    assert final_version(list(reversed(versions))) == max(versions)
    assert final_version(versions + versions) == max(versions)  # redelivery changes nothing
