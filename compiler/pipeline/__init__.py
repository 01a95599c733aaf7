"""The compile pipeline: tenants/*.yaml -> spec -> plan -> objects -> findings -> output/.

Only changed tenants are rebuilt: a tenant's input hash covers its spec bytes, the presets, the
compiler's own sources and templates, and the Kubernetes version. One bad spec never stops the
others; the report says which failed and why (file:line, field).
"""

from compiler.pipeline.compile import build_tenant, compile_workspace
from compiler.pipeline.report import CompileReport, Status, TenantResult
from compiler.pipeline.workspace import TenantBuild, Workspace, index_entry

__all__ = [
    "CompileReport",
    "Status",
    "TenantBuild",
    "TenantResult",
    "Workspace",
    "build_tenant",
    "compile_workspace",
    "index_entry",
]
