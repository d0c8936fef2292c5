"""What a goroutine waits on, read from its stack when the dump itself does not say.

The debug=2 form prints the runtime's wait reason in each header; the debug=1 form and
the binary goroutine profile print none. Their stacks still show the operation: the
innermost standard-library call that parks (`runtime.chansend1`, `sync.(*Mutex).Lock`,
`time.Sleep` ...). The names returned are the runtime's own wait-reason strings
(runtime2.go `waitReasonStrings`), so inferred and printed states compare equal.
"""

from __future__ import annotations

from collections.abc import Sequence

from leakhunter.model import Frame

# Function -> the wait reason the runtime would print for a goroutine parked under it.
_PARKING_CALLS: dict[str, str] = {
    "runtime.chansend1": "chan send",
    "runtime.chansend": "chan send",
    "runtime.chanrecv1": "chan receive",
    "runtime.chanrecv2": "chan receive",
    "runtime.chanrecv": "chan receive",
    "runtime.selectgo": "select",
    "runtime.block": "select (no cases)",
    "runtime.semacquire": "semacquire",
    "runtime.semacquire1": "semacquire",
    "sync.runtime_Semacquire": "semacquire",
    "sync.(*Mutex).Lock": "sync.Mutex.Lock",
    "internal/sync.(*Mutex).Lock": "sync.Mutex.Lock",
    "sync.(*RWMutex).Lock": "sync.RWMutex.Lock",
    "sync.(*RWMutex).RLock": "sync.RWMutex.RLock",
    "sync.(*WaitGroup).Wait": "sync.WaitGroup.Wait",
    "sync.(*Cond).Wait": "sync.Cond.Wait",
    "time.Sleep": "sleep",
    "internal/poll.runtime_pollWait": "IO wait",
}

HIDDEN_RUNTIME = "chan or select"
"""debug=1 hides the runtime frames at the top of a stack. A user-code leaf with hidden
runtime frames above it means the goroutine parked inside the runtime straight from user
code: a channel operation or a select (sleep, locks and IO keep a visible std frame)."""


def infer_state(stack: Sequence[Frame], *, runtime_hidden: bool = False) -> str:
    """The wait reason the stack implies, or "" when it implies none.

    Of all parking calls above the first user frame, the outermost wins:
    `sync.(*Mutex).Lock` says more than the `runtime.semacquire1` it calls.
    """
    found = ""
    for fr in stack:
        reason = _PARKING_CALLS.get(fr.function)
        if reason:
            found = reason
            continue
        if not _is_std(fr.function):
            break
    if not found and runtime_hidden and stack and not _is_std(stack[0].function):
        return HIDDEN_RUNTIME
    return found


def _is_std(function: str) -> bool:
    slash = function.rfind("/")
    first = function.split("/", 1)[0] if slash >= 0 else function.split(".", 1)[0]
    return "." not in first and first != "main"
