"""Errors that reach the user as one line and exit code 2."""


class TfnnError(Exception):
    """A problem the user can fix (bad flag, bad data, unwritable directory).

    The CLI prints ``tfnn: error: <message>`` and exits with code 2; no traceback.
    """

    exit_code = 2


class ConfigError(TfnnError):
    """A configuration value is outside what the experiment allows."""


class DataError(TfnnError):
    """A data file is missing, corrupt, or has the wrong layout."""


class TrainingDiverged(TfnnError):
    """The loss became NaN or infinite."""
