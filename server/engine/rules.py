"""Rule variants as named options, grouped into named editions.

A ruleset picks an edition in ``scenario.toml`` (``[rules] edition = "datc-3.0"``) and may
override single options by name. Data never contains code: each option is a closed choice
that the engine implements and a conformance case file tests.
"""

from __future__ import annotations

from typing import Any

import attrs

# option name -> allowed values (the first is the DATC 3.0 preference)
CHOICES: dict[str, tuple[Any, ...]] = {
    # DATC 4.A.2: convoy paradoxes are broken by the Szykman rule.
    "convoy_paradox": ("szykman",),
    # DATC 4.A.3: an army moves by convoy to an adjacent province when its order says
    # "via convoy" or (2023 rulebook) a fleet of its own nation orders a matching convoy.
    "convoy_to_adjacent": ("intent-2023", "explicit"),
    # DATC 6.G.8: an army ordered "via convoy" to an adjacent province when nobody orders a
    # matching convoy: its move fails (DATC 3.0), or it moves over land (pre-3.0; the peer).
    "convoy_missing": ("fails", "over-land"),
    # DATC 4.E.1 / 2023 rulebook: civil-disorder removals by distance to the nearest owned
    # centre; "distance-home" is the 2000 rule (distance to a home centre).
    "civil_disorder": ("distance-2023", "distance-home"),
    # where builds may be placed: vacant owned home centres, or any vacant owned centre.
    "build_sites": ("home", "any-owned"),
    # DATC 6.H.11/6.H.12 (2023): a unit may retreat to the origin of an army that was
    # convoyed into its province.
    "retreat_to_convoy_origin": (True, False),
}


@attrs.frozen
class RuleOptions:
    """The rule choices in force for a game (DATC 3.0 preferences by default)."""

    edition: str = "datc-3.0"
    convoy_paradox: str = "szykman"
    convoy_to_adjacent: str = "intent-2023"
    convoy_missing: str = "fails"
    civil_disorder: str = "distance-2023"
    build_sites: str = "home"
    retreat_to_convoy_origin: bool = True


EDITIONS: dict[str, dict[str, Any]] = {
    "datc-3.0": {},
    "classic-2000": {"civil_disorder": "distance-home", "retreat_to_convoy_origin": False},
    # the peer engine's choices (MILA diplomacy 1.1.2), to replay its games exactly
    "peer-compat": {"convoy_missing": "over-land"},
}


def make_options(edition: str, overrides: dict[str, Any]) -> RuleOptions:
    """Build options from an edition name and overrides.

    Raises:
        KeyError: unknown edition or option; ValueError: a value outside the choices.

    >>> make_options("datc-3.0", {"build_sites": "any-owned"}).build_sites
    'any-owned'
    """
    if edition not in EDITIONS:
        raise KeyError(f"unknown edition {edition!r}; known: {', '.join(sorted(EDITIONS))}")
    values = dict(EDITIONS[edition])
    for name, value in overrides.items():
        if name not in CHOICES:
            raise KeyError(f"unknown rule option {name!r}; known: {', '.join(sorted(CHOICES))}")
        if value not in CHOICES[name]:
            allowed = ", ".join(repr(c) for c in CHOICES[name])
            raise ValueError(f"rule option {name!r} cannot be {value!r}; choose one of {allowed}")
        values[name] = value
    return RuleOptions(edition=edition, **values)
