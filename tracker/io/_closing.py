"""A mixin for objects that hold a file or device: ``with obj: ...`` calls ``obj.close()``."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_T = TypeVar("_T", bound="Closing")


class Closing:
    """Context-manager protocol on top of a ``close()`` that is safe to call more than once."""

    def close(self) -> None:
        """Release what the object holds (subclasses)."""
        raise NotImplementedError

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
