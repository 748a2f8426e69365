"""The countries (and their states or provinces) the demo store knows: what ``geography`` lists and
what shipping destinations and checkout addresses are checked against."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    id: int
    name: str
    abbreviation: str


@dataclass(frozen=True)
class Country:
    id: int
    code: str
    name: str
    states: tuple[State, ...] = ()


_US = ("Alabama AL", "Alaska AK", "Arizona AZ", "Arkansas AR", "California CA", "Colorado CO", "Connecticut CT",
       "Delaware DE", "District of Columbia DC", "Florida FL", "Georgia GA", "Hawaii HI", "Idaho ID", "Illinois IL",
       "Indiana IN", "Iowa IA", "Kansas KS", "Kentucky KY", "Louisiana LA", "Maine ME", "Maryland MD",
       "Massachusetts MA", "Michigan MI", "Minnesota MN", "Mississippi MS", "Missouri MO", "Montana MT",
       "Nebraska NE", "Nevada NV", "New Hampshire NH", "New Jersey NJ", "New Mexico NM", "New York NY",
       "North Carolina NC", "North Dakota ND", "Ohio OH", "Oklahoma OK", "Oregon OR", "Pennsylvania PA",
       "Rhode Island RI", "South Carolina SC", "South Dakota SD", "Tennessee TN", "Texas TX", "Utah UT",
       "Vermont VT", "Virginia VA", "Washington WA", "West Virginia WV", "Wisconsin WI", "Wyoming WY")
_CA = ("Alberta AB", "British Columbia BC", "Manitoba MB", "New Brunswick NB", "Newfoundland and Labrador NL",
       "Northwest Territories NT", "Nova Scotia NS", "Nunavut NU", "Ontario ON", "Prince Edward Island PE",
       "Quebec QC", "Saskatchewan SK", "Yukon YT")
_AU = ("Australian Capital Territory ACT", "New South Wales NSW", "Northern Territory NT", "Queensland QLD",
       "South Australia SA", "Tasmania TAS", "Victoria VIC", "Western Australia WA")


def _states(first_id: int, entries: tuple[str, ...]) -> tuple[State, ...]:
    return tuple(State(first_id + i, entry.rsplit(" ", 1)[0], entry.rsplit(" ", 1)[1]) for i, entry in enumerate(entries))


COUNTRIES: tuple[Country, ...] = (
    Country(13, "AU", "Australia", _states(200, _AU)),
    Country(38, "CA", "Canada", _states(100, _CA)),
    Country(73, "FR", "France"),
    Country(81, "DE", "Germany"),
    Country(107, "JP", "Japan"),
    Country(137, "MX", "Mexico"),
    Country(150, "NL", "Netherlands"),
    Country(225, "GB", "United Kingdom"),
    Country(226, "US", "United States", _states(1, _US)),
)


def country(code: str) -> Country | None:
    return next((c for c in COUNTRIES if c.code == code.upper()), None)
