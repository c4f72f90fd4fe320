"""One exception family for everything a user can get wrong.

The CLI catches :class:`ArchModelError`, prints ``str(err)`` (always one line) and exits 2. Library
code raises the most specific subclass so notebook users can catch what they care about.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Characters of user text quoted in an error message; longer text is cut with "...".
MAX_QUOTE = 80
#: Characters of a whole error line: a 200,000-character name must not make a 200 KB line.
MAX_LINE = 1000


def shorten(text: str, limit: int = MAX_QUOTE) -> str:
    """``text`` cut to ``limit`` characters (the middle elided), so an error stays one short line."""
    if len(text) <= limit:
        return text
    keep = limit - 3
    return text[: keep - keep // 3] + "..." + text[len(text) - keep // 3:]


class ArchModelError(Exception):
    """Base of every error caused by user input (files, options, API arguments)."""


class SpecError(ArchModelError):
    """A workload, design or space file is wrong.

    The message is one line: ``FILE:LINE[:COL]: WHERE: WHAT (expected ..., found ...)``. ``text`` is
    the user's own text (an Einsum, say) quoted in the message; ``col`` (0-based, into ``text``) puts
    a caret under the culprit in :meth:`pointer`, for tools that can afford a second line.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        where: str | None = None,
        text: str | None = None,
        col: int | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.where = where
        self.text = text
        self.col = col
        self.expected = expected
        self.found = found
        super().__init__(self._format())

    def _format(self) -> str:
        loc = ""
        if self.file:
            loc = self.file
            if self.line is not None:
                loc += f":{self.line}"
        parts = [p for p in (loc, self.where) if p]
        head = ": ".join(parts)
        msg = self.message
        if self.expected is not None or self.found is not None:
            bits = []
            if self.expected is not None:
                bits.append(f"expected {self.expected}")
            if self.found is not None:
                bits.append(f"found {self.found}")
            msg += " (" + ", ".join(bits) + ")"
        if self.text is not None:
            quoted = self.text
            if self.col is not None and 0 <= self.col <= len(quoted):
                # a window of the text around the caret, so a long Einsum stays a short line
                lo = max(0, self.col - MAX_QUOTE // 2)
                hi = min(len(quoted), lo + MAX_QUOTE)
                quoted = ("..." if lo else "") + quoted[lo: self.col] + "\u2038" + quoted[self.col: hi] \
                    + ("..." if hi < len(quoted) else "")
            else:
                quoted = shorten(quoted)
            msg += f" in '{quoted}'"
            if self.col is not None:
                msg += f" at column {self.col + 1}"
        out = f"{head}: {msg}" if head else msg
        return shorten(" ".join(out.split("\n")), MAX_LINE)

    def pointer(self) -> str:
        """Two lines: the quoted text and a caret under the offending column."""
        if self.text is None or self.col is None:
            return ""
        return f"  {self.text}\n  {' ' * self.col}^"

    def located(self, *, file: str | Path | None = None, line: int | None = None,
                where: str | None = None, text: str | None = None) -> SpecError:
        """The same error with location filled in where it was missing (used while unwinding)."""
        return SpecError(
            self.message,
            file=self.file or (str(file) if file is not None else None),
            line=self.line if self.line is not None else line,
            where=self.where or where,
            text=self.text if self.text is not None else text,
            col=self.col,
            expected=self.expected,
            found=self.found,
        )


class OptionError(ArchModelError):
    """A command-line option or API argument is wrong (e.g. ``--set M=abc``)."""


class ToolError(ArchModelError):
    """An external tool (Verilator, Yosys) failed in a way the user can act on."""


def refusal(check: Callable[[Any], object], design: Any) -> str | None:
    """The one line ``check(design)`` refuses ``design`` with (its :class:`SpecError`), ``None`` when
    it passes: how a template states its ``buildable`` rule from the check its generator runs."""
    try:
        check(design)
    except SpecError as err:
        return str(err)
    return None

