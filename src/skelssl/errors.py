"""Every error skelssl raises on purpose, in one leaf module (it imports nothing of skelssl).

A :class:`UserError` is a problem the user can fix: a bad config key, a damaged file, a run
directory that lacks a checkpoint. The ``skelssl`` command prints it as one line and exits
with its ``exit_code``; any other exception is a bug and shows its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input, files or settings; the message says what to do."""

    exit_code = 2


class ConfigError(UserError):
    """A config file or override does not match the schema."""


class LayoutError(UserError):
    """A layout definition is inconsistent or cannot be found."""


class DatasetError(UserError):
    """A prepared dataset is missing, damaged or asked for a split it does not have."""


class PrepareError(UserError):
    """Raw data cannot be prepared (a missing path, an unreadable file, inconsistent labels)."""


class SampleError(UserError):
    """One raw sample cannot be used; ``source`` names the file (and sample) at fault."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # survives worker processes
        return SampleError, (self.source, self.problem)


class DamagedDataError(PrepareError):
    """Some raw samples are damaged; the message lists every one of them."""

    def __init__(self, damaged: list[SampleError]) -> None:
        lines = "\n".join(f"  - {error}" for error in damaged)
        super().__init__(f"{len(damaged)} damaged sample(s):\n{lines}\n"
                         "Fix or remove them, or pass --skip-damaged to leave them out "
                         "(they are then listed in meta.json under 'skipped').")
        self.damaged = damaged


class RunError(UserError):
    """A run directory or checkpoint is missing, unreadable or does not fit its config."""


class EvalError(UserError):
    """An evaluation cannot run as asked (unknown preset, encoder, split or results file)."""


class TrainingDiverged(UserError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""

    exit_code = 3


class EncoderChangedError(UserError):
    """A frozen encoder's weights or buffers changed during evaluation."""

    exit_code = 3
