"""Errors that reach the user as one line and exit code 2.

Messages name the config field at fault in braces, ``{learning_rate}``: from Python
the error reads ``learning_rate 0 is not allowed ...``; the command line prints the
same message with the flag, ``--learning-rate 0 is not allowed ...``
(:meth:`TfnnError.with_flags`).
"""

import errno
import os
import re

# A field marker: {learning_rate}. JSON examples in messages ({"cluster": ...}) do not match.
_FIELD = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def flag(field_name: str) -> str:
    """The command-line flag that sets config field ``field_name``."""
    return "--" + field_name.replace("_", "-")


class TfnnError(Exception):
    """A problem the user can fix (bad setting, bad data, unwritable directory).

    The CLI prints ``tfnn: error: <message>`` and exits with code 2; no traceback.

    Attributes:
        fields: The config fields the message names, in order.
    """

    exit_code = 2

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.template = message
        self.fields = tuple(_FIELD.findall(message))

    def __str__(self) -> str:
        return _FIELD.sub(lambda match: match.group(1), self.template)

    def with_flags(self) -> str:
        """The message with each named field written as its command-line flag."""
        return _FIELD.sub(lambda match: flag(match.group(1)), self.template)


class ConfigError(TfnnError):
    """A configuration value is outside what the experiment allows."""


class DataError(TfnnError):
    """A data file is missing, corrupt, or has the wrong layout."""


class TrainingDiverged(TfnnError):
    """The loss became NaN or infinite."""


class LogWriteError(TfnnError):
    """The log directory filled up or stopped accepting writes in the middle of a run."""


# What the OS (or TensorFlow, which passes the OS' text on) says when a write cannot land.
_WRITE_FAILURE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
)
_WRITE_FAILURE_TEXTS = (
    "No space left on device",
    "Disk quota exceeded",
    "File too large",
    "Read-only file system",
    "Permission denied",
)


def write_failure(error: BaseException) -> str | None:
    """The reason ``error`` is a failed write to disk (full, read-only...), else None.

    Works on ``OSError`` (by errno) and on TensorFlow's ``OpError`` (by the OS
    message it carries) without importing TensorFlow.
    """
    if isinstance(error, OSError) and error.errno in _WRITE_FAILURE_ERRNOS:
        # os.strerror, not error.strerror: h5py puts a whole report there.
        return os.strerror(error.errno)
    text = str(error)
    return next((reason for reason in _WRITE_FAILURE_TEXTS if reason in text), None)
