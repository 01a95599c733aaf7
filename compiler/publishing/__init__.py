"""Stage 6, publishing: commits compiled output to the deploy repo that Argo CD or Flux syncs.

Input: the compiled output contract (output/index.json and output/<tenant_id>/) and Settings.
Output: commits in the deploy repo (tenants/<id>/, argocd/, flux/) whose trailers are the
deployment records, plus reviewer diffs of output/ between git revisions. Never imports the
compiler's internals; only this stage writes to the deploy repo.

Stable API (used by the CLI and the API service):
    publish(settings, *, repo=None, branch=None, push=False, request_id=None, author=None)
        -> PublishResult                             author: CommitAuthor (who asked)
        (the API's writer adds only=<tenant IDs> and memo=StateMemo(): a publish of k tenants)
    list_deployments(settings, tenant_id=None, *, limit=50, repo=None, branch=None)
        -> list[DeploymentRecord]                    newest first
    find_deployment(settings, deployment_id, *, repo=None, branch=None) -> DeploymentRecord | None
    diff_outputs(settings, *, base=None) -> OutputDiff   output/ at a git ref vs the work tree
"""

from compiler.publishing.diff import OutputDiff, TenantDiff, diff_outputs
from compiler.publishing.history import deployment_at, find_deployment, list_deployments
from compiler.publishing.publish import PublishResult, publish, unpublished
from compiler.publishing.records import (
    CommitAuthor,
    DeploymentRecord,
    TenantChange,
    TenantTotals,
    clean_message,
)
from compiler.publishing.state import StateMemo

__all__ = [
    "CommitAuthor",
    "DeploymentRecord",
    "OutputDiff",
    "PublishResult",
    "StateMemo",
    "TenantChange",
    "TenantDiff",
    "TenantTotals",
    "clean_message",
    "deployment_at",
    "diff_outputs",
    "find_deployment",
    "list_deployments",
    "publish",
    "unpublished",
]
