"""Orders as frozen values.

Every order names the unit it is for by kind (``"A"`` army, ``"F"`` fleet) and location as
the player wrote it (a fleet's location may carry a coast: ``stp/sc``). Build-time orders
(``Build``, ``Waive``) and power-level orders (``Permit``, canal permission) name no unit.
Orders are parsed from text by :mod:`notation` and turned back into canonical text by
:func:`notation.format_order`; whether an order is *possible* is the adjudicator's job.
"""

from __future__ import annotations

from typing import Union

import attrs

UNIT_KINDS = ("A", "F")


@attrs.frozen
class Hold:
    """``A par H``."""

    unit: str
    loc: str
    kind = "hold"


@attrs.frozen
class Move:
    """``A par - bur``; ``via_convoy`` for ``A lon - bel via convoy``; ``via`` names a railway
    for rail moves (``A mos - vla via tsr``), ``""`` otherwise."""

    unit: str
    loc: str
    dest: str
    via_convoy: bool = False
    via: str = ""
    kind = "move"


@attrs.frozen
class Support:
    """``A tyr S A ven`` (hold support: ``dest`` is ``None``) or ``F mar S F gas - spa/nc``."""

    unit: str
    loc: str
    target_unit: str
    target: str
    dest: str | None = None
    kind = "support"


@attrs.frozen
class Convoy:
    """``F nth C A lon - bel``."""

    unit: str
    loc: str
    target_unit: str
    target: str
    dest: str
    kind = "convoy"


@attrs.frozen
class Retreat:
    """``F tri R alb`` (retreat phases only)."""

    unit: str
    loc: str
    dest: str
    kind = "retreat"


@attrs.frozen
class Disband:
    """``D A pic``, ``A pic D`` or ``A pic disband``: a removal (adjustment) or a disband
    instead of a retreat (retreat phase)."""

    unit: str
    loc: str
    kind = "disband"


@attrs.frozen
class Build:
    """``B A kie``; a fleet on a split coast names it: ``B F stp/nc``."""

    unit: str
    loc: str
    kind = "build"


@attrs.frozen
class Waive:
    """``waive``: give up one build."""

    kind = "waive"


@attrs.frozen
class Permit:
    """Canal permission (Colonial ``SC F med - red``): the nation holding the canal province
    lets the fleet at ``loc`` pass to ``dest``."""

    unit: str
    loc: str
    dest: str
    kind = "permit"


Order = Union[Hold, Move, Support, Convoy, Retreat, Disband, Build, Waive, Permit]
