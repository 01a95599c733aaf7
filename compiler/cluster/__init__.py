"""Cluster status: read-only views of a tenant's live objects and the GitOps controller's sync.

Modules: client (the Kubernetes adapter: connection, read-only list/get/watch with timeouts and
its error mapping in one place), rollout (live objects -> the reference's deployment-status
fields), capacity (nodes and ResourceQuotas -> system capacity), follow (list + watch with
resourceVersion, bookmarks and re-list on 410, for live streams). Never writes to a cluster;
imports only settings, errors and quantity below it.
"""

from compiler.cluster.capacity import cluster_capacity
from compiler.cluster.client import ClusterReader, GitOpsRef, open_cluster
from compiler.cluster.follow import follow_rollout
from compiler.cluster.rollout import Expected, LiveObjects, Rollout, rollout_status

__all__ = [
    "ClusterReader",
    "Expected",
    "GitOpsRef",
    "LiveObjects",
    "Rollout",
    "cluster_capacity",
    "follow_rollout",
    "open_cluster",
    "rollout_status",
]
