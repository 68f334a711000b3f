"""Outcomes: what happened to each order, and why.

A result is one of ``succeeds``, ``fails``, ``illegal`` (impossible: the unit holds) or
``void`` (legal but nothing matched it). Every result other than a plain success carries a
:class:`Reason` that names a province or an order, so clients and posts print it and never
re-derive it.
"""

from __future__ import annotations

from typing import NamedTuple

from .orders import Order

SUCCEEDS, FAILS, ILLEGAL, VOID = "succeeds", "fails", "illegal", "void"

# code -> text template; {at} and {by} are province ids, {detail} free text
REASONS: dict[str, str] = {
    # illegal
    "no_unit": "no unit at {at}",
    "not_your_unit": "the unit at {at} belongs to {by}",
    "wrong_unit_type": "the unit at {at} is not {detail}",
    "not_adjacent": "{at} is not adjacent",
    "army_to_sea": "an army cannot enter the sea {at}",
    "fleet_inland": "a fleet cannot enter the inland province {at}",
    "coast_needed": "name a coast of {at}",
    "coast_unreachable": "that coast of {at} cannot be reached",
    "own_province": "a unit cannot move to or support into its own province {at}",
    "no_convoy_route": "no convoy route to {at}",
    "convoy_not_army": "only armies can be convoyed",
    "convoy_from_coast": "only a fleet at sea can convoy",
    "cannot_support_self": "a unit cannot support itself",
    "cannot_reach": "the supporting unit cannot reach {at}",
    "wrong_phase": "this order does not belong in a {detail} phase",
    "not_dislodged": "the unit at {at} is not dislodged",
    "retreat_blocked": "cannot retreat to {at}",
    "not_home_centre": "{at} is not a home centre of yours",
    "not_owned": "{at} is not owned by you",
    "occupied": "{at} is occupied",
    "no_builds": "no builds available",
    "no_removals": "no removal required",
    "duplicate": "the unit at {at} already has an order",
    "no_rail": "no railway {detail} joins these provinces",
    "rail_not_allowed": "{detail} may not be used by this nation",
    "rail_capacity": "more rail moves than {detail} carries in one phase",
    "frozen": "{at} is frozen this season",
    "no_permission": "no canal permission to pass {at}",
    # fails
    "bounced": "bounced at {at}",
    "dislodged": "dislodged by the attack from {by}",
    "cut": "support cut by the attack from {by}",
    "convoy_disrupted": "convoy to {at} disrupted",
    "paradox": "part of a paradox broken by {detail}",
    "too_many": "more {detail} than allowed",
    "standoff": "bounced with another retreat to {at}",
    "rail_blocked": "stopped at {at}: {detail}",
    # void
    "unmatched": "no matching order from {at}",
}


class Reason(NamedTuple):
    """Why an order got its result: ``Reason("bounced", at="bur")``.

    A named tuple rather than an attrs class: the adjudicator makes thousands per second.
    """

    code: str
    at: str | None = None
    by: str | None = None
    detail: str | None = None

    def text(self) -> str:
        template = REASONS.get(self.code, self.code)
        return template.format(at=self.at or "?", by=self.by or "?", detail=self.detail or "")


class OrderResult(NamedTuple):
    """The outcome of one submitted order."""

    nation: str
    order: Order
    result: str
    reason: Reason | None = None

    @property
    def ok(self) -> bool:
        return self.result == SUCCEEDS
