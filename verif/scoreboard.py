"""In-order scoreboard: every output beat must equal the next expected one, lane for lane."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .stream import Beat


@dataclass(frozen=True)
class Mismatch:
    """One wrong output beat: where it belongs and which lanes differ."""

    index: int
    where: str
    got: list[int]
    want: list[int]

    def __str__(self) -> str:
        if not self.want:
            return f"beat {self.index}: {self.where}, lanes {self.got}"
        lanes = [j for j, (g, w) in enumerate(zip(self.got, self.want)) if g != w]
        return (f"beat {self.index} ({self.where}): lanes {lanes} got "
                f"{[self.got[j] for j in lanes]} expected {[self.want[j] for j in lanes]}")


class Scoreboard:
    """Compares beats, decoded by ``decode``, with an expected queue, in order.

    Extra beats (nothing expected) are mismatches too; :attr:`pending` counts beats still owed.
    """

    def __init__(self, decode: Callable[[int], list[int]]) -> None:
        self.decode = decode
        self.expected: deque[tuple[list[int], str]] = deque()
        self.mismatches: list[Mismatch] = []
        self.received = 0

    def expect(self, beats: Iterable[tuple[list[int], str]]) -> None:
        self.expected.extend(beats)

    @property
    def pending(self) -> int:
        return len(self.expected)

    def clear(self) -> None:
        self.expected.clear()
        self.mismatches.clear()
        self.received = 0

    def __call__(self, beat: Beat) -> None:
        got = self.decode(beat.payload)
        index = self.received
        self.received += 1
        if not self.expected:
            self.mismatches.append(Mismatch(index, "unexpected extra beat", got, []))
            return
        want, where = self.expected.popleft()
        if got != want:
            self.mismatches.append(Mismatch(index, where, got, want))
