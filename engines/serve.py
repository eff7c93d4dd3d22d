"""Serve a GGUF model with llama.cpp's own server (PyPI xllamacpp), for srlm's Swift side to launch and talk to.

Prints exactly one JSON line on stdout once /health answers 200 (or an error line before exiting non-zero), then
serves until SIGINT/SIGTERM, until the parent process dies, or until stdin reaches EOF (the parent holds the pipe),
so that a crashed parent never leaves an orphan server holding the port and the memory.

Usage: serve.py --model M.gguf [--host 127.0.0.1] [--port 0] [--parallel 4] [--ctx-per-slot 2048] [--threads N] [--poll 0]
                [--lora ADAPTER.gguf]... [--ready-timeout 120] [--ignore-stdin] [--api-key-env NAME]
"""
import argparse
import ctypes
import hashlib
import json
import os
import signal
import sys
import threading
import time
import urllib.request
from pathlib import Path

PR_SET_PDEATHSIG = 1


def say(event: dict) -> None:
    print(json.dumps(event, separators=(",", ":")), flush=True)


def log(msg: str) -> None:
    try:
        print(f"serve: {msg}", file=sys.stderr, flush=True)
    except (BrokenPipeError, OSError):
        pass  # the parent (and its pipe) may be gone; nothing to tell


def model_sha256(path: Path) -> str:
    """SHA-256 of the model, cached in PATH.sha256 keyed on size+mtime so repeated starts skip the hashing."""
    st = path.stat()
    key = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    cache = path.with_name(path.name + ".sha256")
    try:
        cached = json.loads(cache.read_text())
        if {k: cached.get(k) for k in key} == key and len(cached.get("sha256", "")) == 64:
            return cached["sha256"]
    except (OSError, ValueError):
        pass
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    try:
        tmp = cache.with_name(cache.name + f".{os.getpid()}")
        tmp.write_text(json.dumps({**key, "sha256": h.hexdigest()}))
        os.replace(tmp, cache)
    except OSError as e:  # a read-only model folder only costs the cache
        log(f"cannot cache sha256 in {cache}: {e}")
    return h.hexdigest()


def get_json(url: str, timeout: float = 5.0, key: str | None = None):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return r.status, json.loads(r.read() or b"null")


def wait_healthy(url: str, deadline: float) -> None:
    while True:
        try:
            if get_json(url + "/health", timeout=2.0)[0] == 200:
                return
        except OSError:  # 503 while loading, or not listening yet
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url}/health did not answer 200 in time")
        time.sleep(0.1)


def watch_parent(stop: threading.Event, reasons: list, watch_stdin: bool) -> None:
    """Arm every way of noticing that the parent is gone; each one sets `stop`."""
    ppid = os.getppid()

    def stop_because(why: str) -> None:
        reasons.append(why)
        stop.set()

    # The kernel signals us when the parent dies. It also fires when merely the parent *thread* that spawned us
    # exits (a Swift/Dispatch worker can), so use a signal of our own and check that the parent really changed.
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGUSR1), 0, 0, 0) != 0:
            log(f"prctl(PR_SET_PDEATHSIG) failed: errno {ctypes.get_errno()}")
        signal.signal(signal.SIGUSR1, lambda *_: os.getppid() != ppid and stop_because("parent died"))
    if os.getppid() != ppid:  # died before the signal was armed
        stop_because("parent died")

    def poll_ppid() -> None:  # portable fallback (macOS has no PDEATHSIG)
        while not stop.wait(0.5):
            if os.getppid() != ppid:
                stop_because("parent died")

    def read_stdin() -> None:
        # The raw fd, not sys.stdin: a thread blocked inside a buffered reader holds its lock and breaks shutdown.
        try:
            while os.read(0, 4096):
                pass  # nothing is read as a command; we only wait for EOF
        except OSError:
            pass  # no stdin at all counts as closed
        stop_because("stdin closed")

    threading.Thread(target=poll_ppid, daemon=True).start()
    if watch_stdin:
        threading.Thread(target=read_stdin, daemon=True).start()


def main() -> int:
    ap = argparse.ArgumentParser(description="Serve a GGUF model with llama.cpp's server (xllamacpp).")
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: the server binds a free port itself (no race)")
    ap.add_argument("--parallel", type=int, default=4, help="slots for continuous batching")
    ap.add_argument("--ctx-per-slot", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                    else os.cpu_count())
    ap.add_argument("--poll", type=int, default=0, help="ggml threads' busy-wait level 0..100 (llama.cpp's --poll)")
    ap.add_argument("--lora", type=Path, action="append", default=[], help="GGUF LoRA adapter, scale 1 (repeatable)")
    ap.add_argument("--ready-timeout", type=float, default=120.0)
    ap.add_argument("--ignore-stdin", action="store_true", help="do not exit on stdin EOF (for use by hand)")
    ap.add_argument("--api-key-env", help="serve only clients that send the key this environment variable holds "
                    "(the key stays out of argv, where ps would show it)")
    args = ap.parse_args()

    stop, reasons = threading.Event(), []
    # Started by Foundation's Process from a Swift-concurrency thread, we inherit that thread's signal mask with
    # SIGTERM and SIGINT blocked: unblock them, or srlm's terminate() would reach us only as the SIGKILL after it.
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, _f: (reasons.append(signal.Signals(s).name), stop.set()))
    watch_parent(stop, reasons, watch_stdin=not args.ignore_stdin)

    try:
        for p in [args.model, *args.lora]:
            if not p.is_file():
                raise FileNotFoundError(f"{p}: no such file")
        if args.parallel < 1 or args.ctx_per_slot < 1 or args.threads < 1:
            raise ValueError("--parallel, --ctx-per-slot and --threads must be >= 1")
        key = os.environ.get(args.api_key_env, "") if args.api_key_env else None
        if key == "":
            raise ValueError(f"--api-key-env {args.api_key_env}: the variable is unset or empty")
        model = args.model.resolve()
        sha = model_sha256(model)

        import xllamacpp as xlc
        p = xlc.CommonParams()
        p.model.path = str(model)
        p.n_parallel = args.parallel
        p.n_ctx = args.parallel * args.ctx_per_slot  # llama.cpp splits n_ctx evenly across the slots
        p.cpuparams.n_threads = args.threads
        p.cpuparams_batch.n_threads = args.threads
        p.cpuparams.poll = p.cpuparams_batch.poll = args.poll
        p.hostnames = [args.host]
        p.port = args.port
        p.endpoint_metrics = True
        p.ui = False  # no browser here; keep only the API
        p.lora_adapters = [xlc.CommonAdapterLoraInfo(str(a.resolve()), 1.0) for a in args.lora]
        if key:
            p.api_keys = [key]
        server = xlc.Server(p)  # returns once the model is loaded and the socket listens
        url = server.listening_address.rstrip("/")
        wait_healthy(url, time.monotonic() + args.ready_timeout)
        _, props = get_json(url + "/props", key=key)
        _, models = get_json(url + "/v1/models", key=key)
    except Exception as e:  # one parseable line, then a non-zero exit
        say({"event": "error", "message": f"{type(e).__name__}: {e}"})
        return 1

    slot_ctx = props.get("default_generation_settings", {}).get("n_ctx", args.ctx_per_slot)
    say({"event": "ready", "url": url, "model_path": str(model), "model_sha256": sha,
         "model_id": (models.get("data") or [{}])[0].get("id", str(model)),
         "server_version": xlc.__version__, "build_info": props.get("build_info"),
         "chat_template": props.get("chat_template"),
         "n_ctx": slot_ctx * props.get("total_slots", args.parallel), "ctx_per_slot": slot_ctx,
         "parallel": props.get("total_slots", args.parallel), "threads": args.threads,
         "lora": [str(a.resolve()) for a in args.lora], "pid": os.getpid()})

    while not stop.wait(0.5):
        pass
    log(f"stopping ({', '.join(reasons) or 'stop'})")
    # Shutting down should take milliseconds; never let a stuck request keep the port after we were told to go.
    killer = threading.Timer(5.0, lambda: os._exit(0))
    killer.daemon = True
    killer.start()
    del server  # the destructor stops llama.cpp's loop and closes the socket
    sys.stdout.flush()
    # os._exit: the watcher threads are still blocked in read()/wait(); interpreter finalization gains nothing here.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
