"""A counting, fault-injecting HTTP proxy for srlm's engine tests (fault injection only: answers come from the real
server behind it).

Usage: fault_proxy.py --upstream http://127.0.0.1:PORT --log FILE [--mode forward|fail500|garbage|slow]
                      [--failures N] [--delay S]
Prints {"port": N} on stdout when listening. Each request to /v1/chat/completions appends one JSON line to FILE:
{"sent": t0, "time": t, "seed": s, "last": <last message content>, "status": <status returned>} (sent: when the
request arrived; time: when it was answered), plus "prompt_tokens" and "cached_tokens" (the prompt tokens the server
reused from its cache) when the upstream answer reports them.
Modes: forward: pass through; fail500: answer 500 to the first N requests of each distinct body, then pass through;
garbage: answer 200 with a body that is not JSON; slow: sleep S seconds before passing through.
"""
import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None
lock = threading.Lock()
seen = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, request, status, answer=b""):
        entry = {"sent": self.arrived, "time": time.time(), "seed": request.get("seed"),
                 "last": (request.get("messages") or [{}])[-1].get("content"), "status": status}
        try:
            usage = json.loads(answer).get("usage") or {}
            entry["prompt_tokens"] = usage["prompt_tokens"]
            entry["cached_tokens"] = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
        except (ValueError, AttributeError, KeyError, TypeError):
            pass
        with lock, open(args.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def do_GET(self):
        try:
            with urllib.request.urlopen(args.upstream + self.path, timeout=30) as r:
                self.reply(r.status, r.read())
        except urllib.error.HTTPError as e:
            self.reply(e.code, e.read())

    def do_POST(self):
        self.arrived = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request = json.loads(body or b"{}")
        if args.mode == "garbage":
            self.record(request, 200)
            return self.reply(200, b"<html>this is not an answer</html>", "text/html")
        if args.mode == "fail500":
            with lock:
                seen[body] = seen.get(body, 0) + 1
                count = seen[body]
            if count <= args.failures:
                self.record(request, 500)
                return self.reply(500, b'{"error":"injected"}')
        if args.mode == "slow":
            time.sleep(args.delay)
        upstream = urllib.request.Request(args.upstream + self.path, data=body,
                                          headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(upstream, timeout=600) as r:
                data, status = r.read(), r.status
        except urllib.error.HTTPError as e:
            data, status = e.read(), e.code
        self.record(request, status, data)
        try:
            self.reply(status, data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) or was killed


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client killed mid-request (the fault scripts SIGKILL srlm) resets its connection: expected, not news.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--mode", default="forward", choices=["forward", "fail500", "garbage", "slow"])
    p.add_argument("--failures", type=int, default=2)
    p.add_argument("--delay", type=float, default=5.0)
    args = p.parse_args()
    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    # Exit with the test process: stdin closes when the parent dies.
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
