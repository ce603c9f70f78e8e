"""A tiny fake Docker Engine API, just enough for moto's Batch backend (docker-py 7.x).

"Containers" are local subprocesses: Cmd runs on the host with the container's Env
added to this process's environment. The image name is ignored (recorded only).
Point moto at it with DOCKER_HOST=tcp://127.0.0.1:<port> in moto_server's environment.

usage: python fake_dockerd.py [port]      (binds 127.0.0.1 only)
"""
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 2375
CONTAINERS: dict[str, dict] = {}
LOCK = threading.Lock()


def _now_rfc3339() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _pump(c: dict, stream, name: str) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip("\n")
        with LOCK:
            c["logs"].append((name, _now_rfc3339(), line))
    stream.close()


def _start(c: dict) -> None:
    cmd = c["cmd"]
    if isinstance(cmd, str):
        cmd = ["/bin/sh", "-c", cmd]
    env = dict(os.environ)
    env.update(c["env"])
    try:
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    except OSError as e:  # like "exec: not found" -> exit 127
        c["logs"].append(("stderr", _now_rfc3339(), f"fake-dockerd: {e}"))
        c["exit"] = 127
        c["status"] = "exited"
        c["done"].set()
        return
    c["proc"] = p
    c["status"] = "running"
    c["started"] = _now_rfc3339()
    ts = [threading.Thread(target=_pump, args=(c, p.stdout, "stdout"), daemon=True),
          threading.Thread(target=_pump, args=(c, p.stderr, "stderr"), daemon=True)]
    for t in ts:
        t.start()

    def reaper():
        rc = p.wait()
        for t in ts:
            t.join(2)
        c["exit"] = rc if rc >= 0 else 128 - rc  # signal N -> 128+N like docker
        c["status"] = "exited"
        c["done"].set()

    threading.Thread(target=reaper, daemon=True).start()


def _inspect(c: dict) -> dict:
    running = c["status"] == "running"
    return {
        "Id": c["id"], "Name": "/" + c["name"], "Image": c["image"],
        "Created": c["created"],
        "State": {"Status": c["status"], "Running": running, "ExitCode": c.get("exit") or 0,
                  "StartedAt": c.get("started", "0001-01-01T00:00:00Z")},
        # Tty=true makes docker-py return raw log bytes (no 8-byte stream multiplexing)
        "Config": {"Image": c["image"], "Cmd": c["cmd"], "Env": [f"{k}={v}" for k, v in c["env"].items()],
                   "Tty": True, "Labels": {}},
        "HostConfig": {"NetworkMode": "host"},
        "NetworkSettings": {"IPAddress": "127.0.0.1", "Networks": {"bridge": {"IPAddress": "127.0.0.1"}}},
    }


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; comment out to debug
        sys.stderr.write("fake-dockerd: " + (fmt % args) + "\n")

    def _send(self, code: int, body=b"", ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Api-Version", "1.41")
        self.end_headers()
        self.wfile.write(body)

    def _route(self, method: str):
        u = urlsplit(self.path)
        path = re.sub(r"^/v\d+\.\d+", "", u.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if path == "/_ping":
            return self._send(200, "OK", "text/plain")
        if path == "/version":
            return self._send(200, {"Version": "fake-0.1", "ApiVersion": "1.41", "MinAPIVersion": "1.12",
                                    "Os": "linux", "Arch": "amd64"})
        if path == "/info":
            return self._send(200, {"ID": "fake", "Containers": len(CONTAINERS)})
        if method == "GET" and re.match(r"^/images/.+/json$", path):
            return self._send(200, {"Id": "sha256:" + "0" * 64, "RepoTags": [path[8:-5]]})
        if method == "POST" and path == "/images/create":  # pull: pretend it worked
            return self._send(200, {"status": "fake pull ok"})
        if method == "POST" and path == "/containers/create":
            spec = json.loads(body or b"{}")
            cid = uuid.uuid4().hex + uuid.uuid4().hex
            env = dict(e.split("=", 1) for e in (spec.get("Env") or []) if "=" in e)
            CONTAINERS[cid] = {"id": cid, "name": q.get("name", cid[:12]), "image": spec.get("Image"),
                               "cmd": spec.get("Cmd") or [], "env": env, "status": "created",
                               "created": _now_rfc3339(), "logs": [], "done": threading.Event()}
            return self._send(201, {"Id": cid, "Warnings": []})
        m = re.match(r"^/containers/([^/]+)(?:/(\w+))?$", path)
        if m:
            cid, action = m.group(1), m.group(2)
            c = CONTAINERS.get(cid) or next((x for x in CONTAINERS.values() if x["name"] == cid), None)
            if c is None:
                return self._send(404, {"message": f"No such container: {cid}"})
            if method == "POST" and action == "start":
                _start(c)
                return self._send(204)
            if method == "GET" and action == "json":
                return self._send(200, _inspect(c))
            if method == "GET" and action == "logs":
                want = {"stdout"} if q.get("stdout") == "1" else set()
                if q.get("stderr") == "1":
                    want.add("stderr")
                with LOCK:
                    lines = [(ts, ln) for s, ts, ln in c["logs"] if s in want]
                out = "".join((f"{ts} {ln}\n" if q.get("timestamps") == "1" else f"{ln}\n") for ts, ln in lines)
                return self._send(200, out, "application/octet-stream")
            if method == "POST" and action == "wait":
                c["done"].wait(timeout=3600)
                return self._send(200, {"StatusCode": c.get("exit") or 0, "Error": None})
            if method == "POST" and action in ("kill", "stop"):
                p = c.get("proc")
                if p and p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                return self._send(204)
            if method == "DELETE" and action is None:
                p = c.get("proc")
                if p and p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                CONTAINERS.pop(c["id"], None)
                return self._send(204)
        return self._send(404, {"message": f"fake-dockerd: unsupported {method} {path}"})

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_DELETE(self):
        self._route("DELETE")

    def do_HEAD(self):
        self._route("GET")


def _exit_with_parent() -> None:
    """Exit (killing running "containers") when the process that started us exits."""
    parent = os.getppid()

    def watch():
        import time
        while os.getppid() == parent:
            time.sleep(0.5)
        for c in list(CONTAINERS.values()):
            p = c.get("proc")
            if p and p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


if __name__ == "__main__":
    if os.environ.get("MOTO_EXIT_WITH_PARENT") == "1":
        _exit_with_parent()
    srv = ThreadingHTTPServer(("127.0.0.1", PORT), H)
    srv.daemon_threads = True
    print(f"fake-dockerd listening on 127.0.0.1:{PORT}", flush=True)
    srv.serve_forever()
