"""Save-file sub-commands (issue 3)."""


def add_parser(sub):
    pass
