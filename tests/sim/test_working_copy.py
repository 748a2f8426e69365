"""Each simulator's dataset is its own: a working copy of the one built per process equals a store built
from scratch, and what one simulator changes no other sees."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest

from pricing_edge.sim import dataset
from pricing_edge.sim.working_copy import working_copy


@pytest.mark.parametrize("seed", [1, 42])
def test_a_working_copy_is_the_store_built_from_scratch(seed: int) -> None:
    assert dataset.build_dataset(seed) == dataset._pristine.__wrapped__(seed, 1000)


def test_what_one_simulator_changes_no_other_copy_sees() -> None:
    first, second = dataset.build_dataset(7), dataset.build_dataset(7)
    record = next(iter(first.prices.records.values()))
    first.prices.put(replace(record, price=record.price + Decimal("1.00")))
    first.products.pop()
    first.stock.clear()
    first.catalog_content.reviews.clear()
    first.site.pages.pop()
    first.reindex()
    first.next_version()
    assert second == dataset.build_dataset(7) == dataset._pristine.__wrapped__(7, 1000)
    assert first != second


@dataclass(frozen=True)
class Frozen:
    value: int


@dataclass
class Book:
    items: dict[str, Frozen] = field(default_factory=dict)
    history: list[tuple[str, ...]] = field(default_factory=list)


def test_containers_are_copied_and_frozen_records_shared() -> None:
    book = Book({"a": Frozen(1)}, [("x", "y")])
    copied = working_copy(book)
    assert copied == book and copied is not book
    assert copied.items is not book.items and copied.history is not book.history
    assert copied.items["a"] is book.items["a"] and copied.history[0] is book.history[0]


@pytest.mark.parametrize("unsafe", [(["a mutable list in a tuple"],), object()])
def test_what_cannot_be_shared_safely_is_refused(unsafe: object) -> None:
    with pytest.raises(TypeError):
        working_copy({"key": unsafe})
