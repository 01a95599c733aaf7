"""A local HTTP server that speaks the parts of the Kubernetes API protocol our client uses.

Not a kube-apiserver (none runs on these machines): GET of objects and collections under
/api/v1 and /apis/<group>/<version>, namespaced or cluster-wide, with labelSelector; chunked lists
(limit + continue, one consistent snapshot); watch streams (?watch=true) of ADDED / MODIFIED /
DELETED events after a resourceVersion, BOOKMARK events when allowWatchBookmarks is set, and an
ERROR event with a 410 Status for an expired resourceVersion; bearer-token auth (401 Status
otherwise); HTTPS with a self-signed certificate for the in-cluster path. Objects come from
tests/fixtures/kubernetes. Loopback only; stopped by the test.
"""

from __future__ import annotations

import base64
import copy
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "kubernetes"
TOKEN = "stand-in-token-not-a-secret"
# resource (URL plural) -> (API prefix, kind)
RESOURCES = {
    "deployments": ("/apis/apps/v1", "Deployment"),
    "pods": ("/api/v1", "Pod"),
    "events": ("/api/v1", "Event"),
    "namespaces": ("/api/v1", "Namespace"),
    "nodes": ("/api/v1", "Node"),
    "resourcequotas": ("/api/v1", "ResourceQuota"),
    "applications": ("/apis/argoproj.io/v1alpha1", "Application"),
    "kustomizations": ("/apis/kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
}
PLURAL = {kind: plural for plural, (_, kind) in RESOURCES.items()}


def fixture(fixture_name: str, *, namespace: str | None = None, **metadata: Any) -> dict[str, Any]:
    """A fixture object, placed: namespace and metadata fields (name, labels...) set."""
    obj: dict[str, Any] = json.loads((FIXTURES / f"{fixture_name}.json").read_text("utf-8"))
    if namespace is not None:
        obj["metadata"]["namespace"] = namespace
    obj["metadata"].update(metadata)
    return obj


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class Cluster:
    """The objects and their history; every change gets the next resourceVersion."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.version = 100
        self.compacted = 0  # watches from a version below this get 410 Gone
        self.cuts = 0  # bumped by compact(): open watch streams end
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (plural, ns, name)
        self.history: list[tuple[int, str, str, dict[str, Any]]] = []  # (rv, type, plural, obj)
        self.requests: list[str] = []

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        plural = PLURAL[obj["kind"]]
        meta = obj["metadata"]
        key = (plural, meta.get("namespace", ""), meta["name"])
        with self.lock:
            self.version += 1
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.version)
            kind = "MODIFIED" if key in self.objects else "ADDED"
            self.objects[key] = obj
            self.history.append((self.version, kind, plural, obj))
            self.lock.notify_all()
        return obj

    def delete(self, kind: str, namespace: str, name: str) -> None:
        key = (PLURAL[kind], namespace, name)
        with self.lock:
            obj = self.objects.pop(key)
            self.version += 1
            obj = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.version)}}
            self.history.append((self.version, "DELETED", key[0], obj))
            self.lock.notify_all()

    def compact(self) -> None:
        """Forget history, as etcd compaction does after a long disconnect: open watches are cut
        (no bookmark first), and a watch from any version seen so far gets 410 and must re-list."""
        with self.lock:
            self.version += 1
            self.compacted = self.version
            self.cuts += 1
            self.lock.notify_all()

    def select(
        self, plural: str, namespace: str | None, labels: str | None
    ) -> list[dict[str, Any]]:
        wanted = dict(part.split("=", 1) for part in labels.split(",")) if labels else {}
        out = []
        for (p, ns, _), obj in sorted(self.objects.items()):
            if p != plural or (namespace is not None and ns != namespace):
                continue
            have = obj["metadata"].get("labels") or {}
            if all(have.get(k) == v for k, v in wanted.items()):
                out.append(obj)
        return out


def _api_version(prefix: str) -> str:
    return "v1" if prefix == "/api/v1" else prefix.removeprefix("/apis/")


def _route(path: str) -> tuple[str, str | None, str | None] | None:
    """(plural, namespace, name) of a URL path we serve, or None."""
    for plural, (prefix, _) in RESOURCES.items():
        if not path.startswith(prefix + "/"):
            continue
        rest = path[len(prefix) + 1 :].split("/")
        if rest[0] == "namespaces" and plural != "namespaces" and len(rest) >= 3:
            if rest[2] != plural:
                continue
            return plural, rest[1], rest[3] if len(rest) > 3 else None
        if rest[0] == plural:
            return plural, None, rest[1] if len(rest) > 1 else None
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cluster: Cluster
    chunk_limit_seen: list[int]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_json(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.cluster.requests.append(self.path)
        # The scheme is case-insensitive (RFC 7235; the apiserver lower-cases it): the in-cluster
        # loader of the kubernetes client sends "bearer <token>".
        scheme, _, credential = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or credential != TOKEN:
            self._send_json(401, _status(401, "Unauthorized", "Unauthorized"))
            return
        route = _route(url.path)
        if route is None:
            self._send_json(
                404, _status(404, "NotFound", "the server could not find the requested resource")
            )
            return
        plural, namespace, name = route
        if name is not None and plural == "namespaces":
            namespace, name = None, name
        if query.get("watch") in ("true", "1"):
            self._watch(plural, namespace, query)
        elif name is not None:
            key = (plural, namespace or "", name)
            with self.cluster.lock:
                obj = self.cluster.objects.get(key)
            if obj is None:
                self._send_json(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
            else:
                self._send_json(200, obj)
        else:
            self._list(plural, namespace, query)

    def _list(self, plural: str, namespace: str | None, query: dict[str, str]) -> None:
        prefix, kind = RESOURCES[plural]
        token = query.get("continue")
        with self.cluster.lock:
            if token:
                offset, version = (int(x) for x in base64.b64decode(token).decode().split(":"))
            else:
                offset, version = 0, self.cluster.version
            # A consistent snapshot: objects as of `version` (later changes are not in pages).
            items = [
                o
                for o in self.cluster.select(plural, namespace, query.get("labelSelector"))
                if int(o["metadata"]["resourceVersion"]) <= version
            ]
        limit = int(query.get("limit", "0")) or len(items) or 1
        page = items[offset : offset + limit]
        meta: dict[str, Any] = {"resourceVersion": str(version)}
        if offset + limit < len(items):
            meta["continue"] = base64.b64encode(f"{offset + limit}:{version}".encode()).decode()
        body = {"kind": f"{kind}List", "apiVersion": _api_version(prefix), "metadata": meta}
        self._send_json(200, {**body, "items": page})

    def _events_after(
        self, sent: int, plural: str, namespace: str | None
    ) -> list[tuple[int, str, dict[str, Any]]]:
        return [
            (rv, type_, obj)
            for rv, type_, p, obj in self.cluster.history
            if rv > sent
            and p == plural
            and (namespace is None or obj["metadata"].get("namespace") == namespace)
        ]

    def _chunk(self, event: dict[str, Any]) -> None:
        data = (json.dumps(event) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _watch(self, plural: str, namespace: str | None, query: dict[str, str]) -> None:
        prefix, kind = RESOURCES[plural]
        since = int(query.get("resourceVersion") or 0)
        bookmarks = query.get("allowWatchBookmarks") == "true"
        deadline = time.monotonic() + min(float(query.get("timeoutSeconds", "30")), 30)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if since and since < self.cluster.compacted:
                message = f"too old resource version: {since} ({self.cluster.compacted})"
                self._chunk({"type": "ERROR", "object": _status(410, "Expired", message)})
                return
            sent = since
            cuts = self.cluster.cuts
            while time.monotonic() < deadline and self.cluster.cuts == cuts:
                with self.cluster.lock:
                    fresh = self._events_after(sent, plural, namespace)
                    if not fresh:
                        self.cluster.lock.wait(timeout=0.2)
                        fresh = self._events_after(sent, plural, namespace)
                    # No event of this collection up to `current`: a bookmark may say so.
                    current = self.cluster.version
                    if self.cluster.cuts != cuts:
                        return
                for rv, type_, obj in fresh:
                    self._chunk({"type": type_, "object": obj})
                    sent = rv
                if not fresh and bookmarks and current > sent:
                    meta = {"resourceVersion": str(current)}
                    marker = {"kind": kind, "apiVersion": _api_version(prefix), "metadata": meta}
                    self._chunk({"type": "BOOKMARK", "object": marker})
                    sent = current
        except (BrokenPipeError, ConnectionResetError):
            return
        finally:
            try:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True


@contextmanager
def standin(tls: tuple[Path, Path] | None = None) -> Iterator[tuple[Cluster, str]]:
    """(the cluster's state, its URL) while the server runs; over HTTPS with `tls` (a
    certificate and its key), as an in-cluster client expects."""
    cluster = Cluster()
    handler = type("BoundHandler", (Handler,), {"cluster": cluster})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if tls is not None else "http"
    try:
        yield cluster, f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key: the stand-in's own cluster CA."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-standin")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "ca.crt", directory / "tls.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def kubeconfig(path: Path, url: str, token: str = TOKEN) -> Path:
    """A kubeconfig with one context, `standin`, using a bearer token."""
    text = f"""apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster: {{server: "{url}"}}
users:
- name: reader
  user: {{token: "{token}"}}
contexts:
- name: standin
  context: {{cluster: standin, user: reader, namespace: default}}
- name: other
  context: {{cluster: standin, user: reader}}
current-context: other
"""
    path.write_text(text, encoding="utf-8")
    return path
