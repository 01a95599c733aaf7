"""Stage 4, validating: Kubernetes objects to findings (schema errors and policy warnings).

Schemas are kubernetes-validate's own files for a pinned version (CRDs from crds/), compiled once
per kind; policy rules are small named checks in the style of kube-linter. Reads no user files.
"""

from compiler.validating.documents import LoadedDocument, load_documents
from compiler.validating.findings import Finding
from compiler.validating.summary import resource_summary
from compiler.validating.validate import ManifestValidator, PolicyContext

__all__ = [
    "Finding",
    "LoadedDocument",
    "ManifestValidator",
    "PolicyContext",
    "load_documents",
    "resource_summary",
]
