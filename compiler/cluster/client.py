"""The Kubernetes adapter: one connection, read-only calls, timeouts and error mapping in one place.

Input: settings.cluster (a kubeconfig path + context, or in-cluster). Output: objects as plain
dicts in the API's documented JSON shape (the official `kubernetes` client with raw responses:
no model round-trip, so the rules in rollout/capacity read exactly what the API reference
documents). Every call has a timeout; list calls are chunked (limit + continue). Errors: 401/403,
transport failures and timeouts become KubernetesError (502) naming what failed, a missing
object is None, a watch whose resourceVersion expired raises Gone. Only GET requests, ever.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.errors import KubernetesError
from compiler.settings import ClusterCapacity

LIST_CHUNK = 500  # objects per list page: bounded memory per response on large clusters
WATCH_SECONDS = 60  # a watch request ends server-side after this; the follower re-watches


class Gone(Exception):
    """HTTP 410: the resourceVersion is too old; the caller re-lists."""


@dataclass(frozen=True)
class GitOpsRef:
    """Where a tenant's GitOps object lives: an Argo CD Application or a Flux Kustomization."""

    group: str
    version: str
    namespace: str
    plural: str
    name: str


class ClusterReader:
    def __init__(self, api_client: Any, timeout_s: float) -> None:
        from kubernetes import client, watch  # imported only when a cluster is configured

        self._api = api_client
        self._core = client.CoreV1Api(api_client)
        self._apps = client.AppsV1Api(api_client)
        self._custom = client.CustomObjectsApi(api_client)
        self._watch = watch.Watch
        self._exception = client.ApiException
        self.timeout_s = timeout_s

    def close(self) -> None:
        self._api.close()

    # -- the one place where calls are made and errors mapped ----------------------------------

    def _call(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import urllib3

        try:
            response = call(
                *args, _preload_content=False, _request_timeout=self.timeout_s, **kwargs
            )
            return json.loads(response.data)
        except self._exception as exc:
            if exc.status == 404:
                return None
            if exc.status == 410:
                raise Gone(what) from None
            reason = "credentials refused" if exc.status in (401, 403) else f"HTTP {exc.status}"
            raise KubernetesError(
                f"cluster read failed: {what}: {reason}",
                details={"call": what, "status": exc.status},
            ) from None
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise KubernetesError(
                f"cluster unreachable: {what}: {type(exc).__name__}",
                details={"call": what, "reason": type(exc).__name__},
            ) from None

    def _list(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """All pages of a list: (items, the list's resourceVersion)."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._call(what, call, *args, limit=LIST_CHUNK, _continue=token, **kwargs)
            if page is None:
                return [], ""
            items.extend(page.get("items") or [])
            meta = page.get("metadata") or {}
            token = meta.get("continue") or None
            if token is None:
                return items, str(meta.get("resourceVersion") or "")

    # -- reads ------------------------------------------------------------------------------

    def namespace(self, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._call("get namespace", self._core.read_namespace, name)
        return found

    def deployments(self, namespace: str) -> tuple[list[dict[str, Any]], str]:
        return self._list(  # type: ignore[no-any-return]
            "list deployments", self._apps.list_namespaced_deployment, namespace
        )

    def pods(self, namespace: str) -> tuple[list[dict[str, Any]], str]:
        return self._list("list pods", self._core.list_namespaced_pod, namespace)  # type: ignore[no-any-return]

    def events(self, namespace: str) -> list[dict[str, Any]]:
        items, _ = self._list("list events", self._core.list_namespaced_event, namespace)
        return items  # type: ignore[no-any-return]

    def nodes(self) -> list[dict[str, Any]]:
        items, _ = self._list("list nodes", self._core.list_node)
        return items  # type: ignore[no-any-return]

    def quotas(self, label_selector: str) -> list[dict[str, Any]]:
        items, _ = self._list(
            "list resource quotas",
            self._core.list_resource_quota_for_all_namespaces,
            label_selector=label_selector,
        )
        return items  # type: ignore[no-any-return]

    def labelled_deployments(self, label_selector: str) -> list[dict[str, Any]]:
        items, _ = self._list(
            "list deployments",
            self._apps.list_deployment_for_all_namespaces,
            label_selector=label_selector,
        )
        return items  # type: ignore[no-any-return]

    def gitops(self, refs: list[GitOpsRef]) -> dict[str, Any] | None:
        """The first of the tenant's GitOps objects that exists (Argo CD or Flux)."""
        for ref in refs:
            found: dict[str, Any] | None = self._call(
                f"get {ref.plural}",
                self._custom.get_namespaced_custom_object,
                ref.group,
                ref.version,
                ref.namespace,
                ref.plural,
                ref.name,
            )
            if found is not None:
                return found
        return None

    def watch(
        self, kind: str, namespace: str, resource_version: str, seconds: int = WATCH_SECONDS
    ) -> Iterator[dict[str, Any]]:
        """Events {type, object} after resource_version (bookmarks included) until the server
        ends the request; Gone when the version has expired."""
        import urllib3

        call = {
            "Deployment": self._apps.list_namespaced_deployment,
            "Pod": self._core.list_namespaced_pod,
        }[kind]
        stream = self._watch().stream(
            call,
            namespace,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=seconds,
            _request_timeout=(self.timeout_s, seconds + self.timeout_s),
        )
        try:
            for event in stream:
                yield {"type": event["type"], "object": event["raw_object"]}
        except self._exception as exc:
            if exc.status == 410:
                raise Gone(f"watch {kind}") from None
            raise KubernetesError(
                f"cluster watch failed: {kind}: HTTP {exc.status}",
                details={"call": f"watch {kind}", "status": exc.status},
            ) from None
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise KubernetesError(
                f"cluster watch failed: {kind}: {type(exc).__name__}",
                details={"call": f"watch {kind}", "reason": type(exc).__name__},
            ) from None


def open_cluster(settings: ClusterCapacity) -> ClusterReader | None:
    """The configured cluster's reader, or None when no cluster is configured."""
    if not settings.connected:
        return None
    from kubernetes import client, config

    try:
        if settings.in_cluster:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            api = client.ApiClient(configuration)
        else:
            path = str(Path(settings.kubeconfig or "").expanduser())
            api = config.new_client_from_config(
                config_file=path, context=settings.context, persist_config=False
            )
    except (config.ConfigException, OSError, ValueError) as exc:
        raise KubernetesError(
            f"cannot load the cluster configuration: {exc}",
            details={"kubeconfig": settings.kubeconfig, "context": settings.context},
        ) from None
    api.configuration.retries = 1  # a read that fails twice is reported, not retried for long
    return ClusterReader(api, settings.timeout_s)
