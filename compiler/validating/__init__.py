"""Stage 4, validating: Kubernetes objects to findings (schema errors and policy warnings).

Schemas are kubernetes-validate's own files for a pinned version (CRDs from crds/), compiled once
per kind; policy rules are small named checks in the style of kube-linter. Reads no user files.
"""
