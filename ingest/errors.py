"""The operator's mistakes that a verb finds itself (an ID not in the ledger, a value out of
range): the CLI prints the message as one Japanese sentence and exits 2, never a traceback."""


class OperatorError(Exception):
    """A request the operator can correct; the message names the value and what to do."""
