"""The one exception tree of Kessen's engine.

::

    KessenError
     +-- RulesetError (ValueError)        a ruleset file is wrong: names file, entry and fix
     +-- OrderSyntaxError (ValueError)    order text cannot be read: names the column
     |    +-- AmbiguousNameError          a name matches several provinces: lists them
     +-- StateError (ValueError)          a game state is inconsistent with its ruleset
     +-- CaseError (ValueError)           a conformance case is malformed: names case and field
     +-- SaveError (ValueError)           a save file is wrong: names record index or header field
     |                                    (server/saves/model.py)
     +-- MilaError (ValueError)           a MILA saved game cannot be imported (server/saves/mila.py)

An order that can be read but is impossible (``A par - mos``) is never an exception: it is
an outcome with a reason (see ``outcome.py``).
"""

from __future__ import annotations


class KessenError(Exception):
    """Root of every error Kessen raises on purpose."""


class RulesetError(KessenError, ValueError):
    """A ruleset is invalid.

    ``str(e)`` reads ``rulesets/classic/map.toml [provinces.stp]: coast 'sc' has no edges; add one``.
    """

    def __init__(self, file: str, entry: str, problem: str, fix: str = "") -> None:
        self.file, self.entry, self.problem, self.fix = file, entry, problem, fix
        text = f"{file} [{entry}]: {problem}" if entry else f"{file}: {problem}"
        super().__init__(f"{text}; {fix}" if fix else text)


class OrderSyntaxError(KessenError, ValueError):
    """Order text that cannot be parsed; ``column`` is 1-based."""

    def __init__(self, message: str, text: str = "", column: int = 0) -> None:
        self.message, self.text, self.column = message, text, column
        where = f" (column {column})" if column else ""
        super().__init__(f"{message}{where}: {text!r}" if text else f"{message}{where}")


class AmbiguousNameError(OrderSyntaxError):
    """A province name matches several provinces."""

    def __init__(self, name: str, candidates: list[str], text: str = "", column: int = 0) -> None:
        self.name, self.candidates = name, candidates
        super().__init__(
            f"{name!r} is ambiguous: could be {', '.join(candidates)}", text=text, column=column
        )


class StateError(KessenError, ValueError):
    """A game state does not fit its ruleset (unit on an unknown province, ...)."""


class CaseError(KessenError, ValueError):
    """A conformance case is malformed; names the case id and the field."""

    def __init__(self, case_id: str, field: str, problem: str) -> None:
        self.case_id, self.field, self.problem = case_id, field, problem
        super().__init__(f"case {case_id}: field {field!r}: {problem}")
