"""Errors a user can fix.

Every class here carries a message that says what is wrong, where (file, row,
column or config key) and how to fix it. The CLI prints the message as one
line and exits with code 2; anything that is not a `ReportgenError` is a bug
and keeps its traceback.
"""


class ReportgenError(Exception):
    """Base of every error the user can fix; the message is shown as is."""

    exit_code = 2

    def __init__(self, message: str, *, values: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.values = values
        """The parts of the message that quote cells of the data (examples of bad values,
        repeated ids): the terminal shows them, a failure notice leaves them out."""

    def without_values(self) -> str:
        """The message with the cells it quotes replaced by "…": what may be emailed to
        [email] notify_on_failure, which never receives the data."""
        text = str(self)
        for value in self.values:
            text = text.replace(value, "…")
        return text


class ConfigError(ReportgenError):
    """The config file or a command-line option is invalid."""


class InputError(ReportgenError):
    """The input file cannot be read as a table."""


class DataError(ReportgenError):
    """The table was read but its content cannot be used."""


class SegmentationError(ReportgenError):
    """The data cannot be segmented as asked (for example k is too large)."""


class SnapshotError(ReportgenError):
    """The output snapshot cannot be written as asked."""


class DeliveryError(ReportgenError):
    """The mail server could not be reached or did not take the message (exit code 3)."""

    exit_code = 3


class EngineError(ReportgenError):
    """The Spark cluster could not be started or reached (exit code 3, as for mail)."""

    exit_code = 3
