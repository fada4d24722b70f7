"""A base for small immutable value classes, without :mod:`dataclasses`.

``dataclasses`` imports :mod:`inspect` (and with it ``ast``, ``dis``, ``tokenize``): about a
tenth of ``validate``'s start-up. The mapping's classes are few and small, so they are written
by hand on this base, which gives what ``@dataclass(frozen=True)`` gave them: equality field by
field with an instance of the same class, the hash of the fields, the same ``repr``, and an
``AttributeError`` on assignment or deletion. A subclass names its fields in order in
``_fields``, makes them its ``__slots__``, and sets them in ``__init__`` with
``object.__setattr__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import ClassVar


class Frozen:
    """Immutable, compared and hashed by the values of its ``_fields``, in order."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frozen) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __setstate__(self, state: tuple[object, dict[str, object]]) -> None:
        """Restore a copy or an unpickled instance (the default state of a slotted object)."""
        for name, value in state[1].items():
            object.__setattr__(self, name, value)
