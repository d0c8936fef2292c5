"""The error hierarchy every layer raises and the CLI turns into one line and exit 2.

Layers raise these instead of printing so that the same failure reads the same in
every command, and so that library users can catch one base class
(the shape of httpx's exceptions).
"""

from __future__ import annotations


class LeakhunterError(Exception):
    """Base of every error leakhunter raises on purpose; its text is the user's one line."""

    exit_code = 2


class UsageError(LeakhunterError):
    """The command line or configuration asks for something that cannot be done."""


class InputError(LeakhunterError):
    """An input (file, stdin, URL, Go source) could not be read or understood."""

    def naming(self, what: str) -> InputError:
        """This error with its line naming the input `what` (a path, `stdin`, a URL).

        The layers that decode bytes do not know where the bytes came from, so their
        lines say what is wrong but not with which input; with two inputs (`diff A B`)
        the user could not tell which. The command that read the input names it here.
        A line that already starts with the name is returned as it is."""
        text = str(self)
        if text.startswith((f"{what}:", f"{what} ")):
            return self
        return type(self)(f"{what}: {text}")


class CorruptInputError(InputError):
    """The bytes are damaged: truncated, random, not the format they claim to be."""


class InputTooLargeError(InputError):
    """The input, once decompressed, would exceed the size limit (a gzip bomb, or --max-bytes)."""


class WrongKindError(InputError):
    """A valid profile of another kind than the command needs (a CPU profile given to `goroutines`)."""


class FetchError(InputError):
    """A URL refused, timed out, or answered with an error status."""


class OutputError(LeakhunterError):
    """A file the user asked for (-o, --report, --flame) could not be written (a full disk)."""


class TargetError(LeakhunterError):
    """A live target (watch/soak) could not be started, reached, or kept running."""
