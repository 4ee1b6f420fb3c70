"""What a written report weighs and what takes the room: the line `to_html` returns, and its budget.

`to_html` returns a `ReportFile`: the path of the report (a `pathlib.Path`, as before) whose repr
is one line such as ``report.html: 0.42 MB (maps 61%, photos 30%, code 9%)`` and whose `size`
holds the breakdown. Above `SIZE_BUDGET_MB` (or the `budget_mb` given to `to_html`) a
`ReportSizeWarning` names the largest part.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

#: Above this many megabytes (10^6 bytes) `to_html` warns: a report this large is slow to open and
#: to send, and most of it is usually precomputed results that fewer choices would avoid.
SIZE_BUDGET_MB = 10.0
#: Parts below this share of the file are summed into "other" in the one-line summary.
SHOWN_SHARE = 0.01


class ReportSizeWarning(UserWarning):
    """A report came out larger than its size budget."""


@dataclass(frozen=True)
class ReportSize:
    """A report's size in bytes, and the bytes each part of it takes, largest first.

    `parts` are (name, bytes) pairs: the widgets' binary data by what it is (maps, photos,
    keyframes, ...), "code" (the widgets' and the page host's JavaScript) and "other" (the page,
    the widgets' settings); they add up to `total`.
    """

    name: str
    total: int
    parts: tuple[tuple[str, int], ...]

    @property
    def megabytes(self) -> float:
        """The size in MB (10^6 bytes)."""
        return self.total / 1e6

    def share(self, part: str) -> float:
        """The fraction of the file that `part` takes (0 when there is no such part)."""
        return dict(self.parts).get(part, 0) / self.total if self.total else 0.0

    def __str__(self) -> str:
        """One line: name, size, and each part's share of at least 1% (the rest as "other")."""
        shown, rest = [], 0
        for part, size in self.parts:
            if part != "other" and self.total and size / self.total >= SHOWN_SHARE:
                shown.append(f"{part} {size / self.total:.0%}")
            else:
                rest += size
        if self.total and rest / self.total >= SHOWN_SHARE:
            shown.append(f"other {rest / self.total:.0%}")
        return f"{self.name}: {self.megabytes:.2f} MB ({', '.join(shown)})"


def measure(name: str, total: int, data_parts: dict[str, int], code: int) -> ReportSize:
    """A ReportSize of `total` bytes: `data_parts` and `code` as given, "other" what they leave."""
    parts = {**{k: v for k, v in data_parts.items() if v > 0}, "code": code}
    other = total - sum(parts.values())
    if other < 0:
        raise ValueError(f"the parts of {name} add up to {total - other} bytes, more than its {total}")
    parts["other"] = other
    ordered = sorted(parts.items(), key=lambda item: -item[1])
    return ReportSize(name, total, tuple(ordered))


def warn_if_over_budget(size: ReportSize, budget_mb: float | None) -> None:
    """Warn (`ReportSizeWarning`) when the report is larger than `budget_mb` (None: never)."""
    if budget_mb is None or size.megabytes <= budget_mb:
        return
    largest, _ = size.parts[0]
    warnings.warn(
        f"{size} is above the {budget_mb:g} MB budget; the largest part is {largest} "
        f"({size.share(largest):.0%}). Export fewer precomputed choices (e.g. CAMExplorer's layers=, "
        "classes=, methods=, or a deeper layer with smaller maps), or pass budget_mb=None to "
        "to_html to silence this.",
        ReportSizeWarning, stacklevel=3,
    )


class ReportFile(type(Path())):  # type: ignore[misc]  # Path() is PosixPath or WindowsPath
    """The path of a written report (a `pathlib.Path`) whose repr says its size and what fills it.

    `size` is the `ReportSize` of the file as written; paths derived from this one (`parent`,
    `with_suffix`, ...) have none and show as plain paths.
    """

    size: ReportSize | None = None

    @classmethod
    def written(cls, path: Path, size: ReportSize) -> "ReportFile":
        """A ReportFile for `path` with its measured `size`."""
        report = cls(path)
        report.size = size
        return report

    def __repr__(self) -> str:
        return str(self.size) if self.size is not None else repr(Path(self))
