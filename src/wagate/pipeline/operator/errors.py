"""What an operator action can refuse, as four kinds every caller maps the same way: the API
to 404 / 422 / 409 / 403, the command line to a message and exit status 1."""

from __future__ import annotations


class OperatorError(ValueError):
    """An operator action that was not done; the message says why, and holds no secret."""


class NotFound(OperatorError):
    """What the action names does not exist (an account, a dead letter)."""


class InvalidReference(NotFound):
    """The reference itself is malformed (a dead-letter id that is neither `123` nor `in-7`);
    the command line treats it as a usage error."""


class Rejected(OperatorError):
    """The request cannot be done as asked (a bad number, an empty text, an unknown template,
    a provider that is not configured)."""


class Conflict(OperatorError):
    """The request clashes with what is stored (a username taken, a number linked elsewhere,
    a message that is no longer a dead letter, a number whose contact opted out)."""


class Forbidden(OperatorError):
    """The actor's role does not allow the action (a viewer approving a draft)."""


class Unavailable(OperatorError):
    """Something the action needs is down for now (the object store): try again later. The
    API answers 503."""
