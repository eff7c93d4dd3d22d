"""Run a command in its own process group and take the whole group down with srlm.

Usage: python engines/supervise.py [--parent PID] -- CMD [ARGS...]

The trainer forks workers (accelerate launch → train.py, dataloader workers, torchrun ranks); killing the launcher
alone would orphan them. This process leads a new process group, runs CMD in it, and kills the group (SIGTERM, then
SIGKILL after a grace period) when:
  - its parent (srlm) dies, however it died (SIGKILL included): it polls getppid(), which works on Linux and macOS
    and does not depend on which thread spawned it (PR_SET_PDEATHSIG fires when the spawning *thread* exits);
  - it receives SIGTERM, SIGINT or SIGHUP (srlm's way to stop a trainer).
Stdout and stderr are inherited: CMD's JSON events and log go where srlm pointed them. Exit status: CMD's, or
128 + the signal that ended it.
"""
import os
import signal
import subprocess
import sys
import time

GRACE_S = 10.0
POLL_S = 0.5


def say(message: str) -> None:
    # srlm reads our stderr; once it is dead the pipe is broken, and a message is not worth dying for.
    try:
        print(message, file=sys.stderr, flush=True)
    except OSError:
        pass


def kill_group(reason: str) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group signal below reaches us too
    try:
        os.killpg(os.getpgrp(), signal.SIGTERM)
    except ProcessLookupError:
        pass
    say(f"supervise: {reason}: stopped process group {os.getpgrp()}")


def main() -> int:
    argv = sys.argv[1:]
    # --parent: the pid srlm had when it spawned us, so that a parent that died before we started still counts.
    parent = os.getppid()
    if argv[:1] == ["--parent"] and len(argv) > 1 and argv[1].isdigit():
        parent, argv = int(argv[1]), argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: supervise.py [--parent PID] -- CMD [ARGS...]", file=sys.stderr)
        return 2
    if os.getpgrp() != os.getpid():
        os.setpgid(0, 0)
    # A process spawned from a libdispatch worker thread (Foundation's Process under Swift concurrency) inherits that
    # thread's signal mask, with SIGTERM and SIGINT blocked: unblock everything, for us and (inherited) the command.
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    for s in (signal.SIGQUIT, signal.SIGPIPE):
        signal.signal(s, signal.SIG_DFL)
    stopping = {"reason": None}

    def on_signal(number, _frame):
        stopping["reason"] = f"signal {signal.Signals(number).name}"

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    child = subprocess.Popen(argv)
    # The command got default SIGPIPE handling; we ignore it, so writing to a dead srlm's pipe cannot kill us
    # before we have stopped the group.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    deadline = None
    while True:
        try:
            code = child.wait(timeout=POLL_S)
            break
        except subprocess.TimeoutExpired:
            pass
        if stopping["reason"] is None and os.getppid() != parent:
            stopping["reason"] = f"parent {parent} exited"
        if stopping["reason"] is not None and deadline is None:
            kill_group(stopping["reason"])
            deadline = time.monotonic() + GRACE_S
        elif deadline is not None and time.monotonic() > deadline:
            say("supervise: grace period over: SIGKILL")
            os.killpg(os.getpgrp(), signal.SIGKILL)  # ends this process too
    if deadline is not None:
        # The command is gone; make sure no grandchild outlives it (we are not hit by our own SIGKILL before this).
        try:
            os.killpg(os.getpgrp(), signal.SIGTERM)
        except ProcessLookupError:
            pass
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
