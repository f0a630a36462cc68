"""Calendar reading under a budget: a child process with a wall-clock and a memory limit.

Parsing and expanding a calendar is the one step whose cost the data decides
(a 300-byte ``FREQ=SECONDLY`` feed, a 70,000-event export). The worker, the
CLI and the web all run that step through a ``Reader``: in a child process
forked from a small fork server that has the readers imported, with
``RLIMIT_AS`` set to the memory budget and killed when the wall-clock budget
runs out. The caller stays responsive (it only waits on a pipe), a stuck read
cannot hold a signal or the GIL, and several reads use several cores.

A read over budget raises ``BudgetExceeded`` (a ``CalendarError``), so every
caller already keeps its last good data. ``isolated=False`` runs the same
function in-process, without limits, where processes cannot be started.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import ModuleType
from typing import Any, Literal, ParamSpec, TypeVar

from integrations.errors import CalendarError

P = ParamSpec("P")
T = TypeVar("T")

# What the fork server imports once for every reader it forks. ``integrations.ics``
# imports its readers lazily (the parent only unpickles results), so they are named.
PRELOAD = [
    "integrations.ics.read",
    "integrations.ics.window",
    "integrations.ics.incremental",
    "integrations.budget",
]
MB = 1024 * 1024


@dataclass(frozen=True)
class ReadBudget:
    """How long and how much memory one calendar read may take."""

    seconds: float = 30.0
    memory_mb: int = 1024
    isolated: bool = True

    def shorter(self, seconds: float) -> ReadBudget:
        """The same budget with at most ``seconds`` of wall-clock time (web requests)."""
        return ReadBudget(min(self.seconds, seconds), self.memory_mb, self.isolated)


class BudgetExceeded(CalendarError):
    """A read ran out of its ``resource`` ("time" or "memory"); ``limit`` is the budget."""

    def __init__(self, source: str, *, resource: Literal["time", "memory"], limit: float) -> None:
        self.resource = resource
        self.limit = limit
        spent = f"{limit:g} s" if resource == "time" else f"{limit:g} MB of memory"
        super().__init__(
            source,
            f"reading needed more than {spent} (the read budget) and was stopped; "
            "the last good copy is kept",
        )


class ReaderCrashed(CalendarError):
    """The reading process died without an answer (``exitcode`` as multiprocessing gives it)."""

    def __init__(self, source: str, *, exitcode: int | None) -> None:
        self.exitcode = exitcode
        super().__init__(source, f"the reader stopped without an answer (exit {exitcode})")


class Reader:
    """Runs read functions under one ``ReadBudget``; one per process that reads calendars.

    The function and its arguments must be picklable (a module-level function
    and plain data); so must its result. Exceptions it raises are raised here.
    """

    def __init__(self, budget: ReadBudget | None = None) -> None:
        self.budget = budget or ReadBudget()
        self._context: Any = None

    def run(
        self,
        source: str,
        fn: Callable[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``fn(*args, **kwargs)`` under the budget; errors name ``source``."""
        if not self.budget.isolated:
            return fn(*args, **kwargs)
        return self.run_with(self.budget, source, fn, *args, **kwargs)

    def run_with(
        self,
        budget: ReadBudget,
        source: str,
        fn: Callable[P, T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like ``run``, under another budget (for example a shorter one in the web)."""
        if not budget.isolated:
            return fn(*args, **kwargs)
        receive, send = self._ctx().Pipe(duplex=False)
        child = self._ctx().Process(
            target=_child,
            args=(send, budget.memory_mb * MB, fn, args, kwargs),
            daemon=True,
        )
        child.start()
        send.close()
        try:
            answer: T = _answer(receive, child, budget, source)
            return answer
        finally:
            receive.close()
            _reap(child)

    def _ctx(self) -> Any:
        if self._context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([*PRELOAD, *main_imports()])
            self._context = ctx
        return self._context


def main_imports() -> list[str]:
    """The modules the main script took names from.

    multiprocessing runs a main script given by path (a console script such as
    ``panelslot``, a benchmark) again in every child, as ``__mp_main__``: with
    these imported once by the fork server, that costs the script's own lines,
    not its imports (``panelslot``'s ``from web.cli import main`` took 0.6 s of
    CPU per read). A main run with ``-m`` is not run again: nothing to add."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        return []
    names: set[str] = set()
    for value in vars(main).values():
        name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", "")
        if isinstance(name, str) and name in sys.modules and name not in ("__main__", "builtins"):
            names.add(name)
    return sorted(names)


def _answer(receive: Connection, child: Any, budget: ReadBudget, source: str) -> Any:
    deadline = time.monotonic() + budget.seconds
    while not receive.poll(max(0.0, min(0.5, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            raise BudgetExceeded(source, resource="time", limit=budget.seconds)
        if not child.is_alive() and not receive.poll(0):
            raise ReaderCrashed(source, exitcode=child.exitcode)
    try:
        kind, value = receive.recv()
    except EOFError:
        child.join(1.0)
        raise ReaderCrashed(source, exitcode=child.exitcode) from None
    if kind == "memory":
        raise BudgetExceeded(source, resource="memory", limit=budget.memory_mb)
    if kind == "error":
        raise value
    return value


def _reap(child: Any) -> None:
    if child.is_alive():
        child.kill()
    child.join(5.0)
    child.close()


def _child(
    send: Connection,
    memory_bytes: int,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """In the child: limit the address space, run, send ("ok"|"error"|"memory", value).

    What the child inherited from the fork server is frozen first (``gc.freeze``): the
    collector then never walks it, so its pages stay shared instead of being copied."""
    gc.freeze()
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        message: tuple[str, Any] = ("ok", fn(*args, **kwargs))
    except MemoryError:
        message = ("memory", None)
    except CalendarError as exc:  # a reader's catch-all may have wrapped the MemoryError
        message = ("memory", None) if _out_of_memory(exc) else ("error", exc)
    try:
        send.send(message)
    except MemoryError:
        send.send(("memory", None))
    send.close()


def _out_of_memory(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def run_read(
    reader: Reader | None, source: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """``fn`` through ``reader``, or in-process when there is none (tests, tools)."""
    if reader is None:
        return fn(*args, **kwargs)
    return reader.run(source, fn, *args, **kwargs)
