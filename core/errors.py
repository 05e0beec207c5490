"""The one error family: what happened, where (file, line, key, stream) and what to do."""


class PulseError(Exception):
    """A user-facing error. The CLI prints its message as one line and exits non-zero."""


class ConfigError(PulseError):
    """campaign.toml (or the file given by --config / PULSE_CONFIG) is missing or invalid."""


class DataDirError(PulseError):
    """The data directory cannot be created or written."""
