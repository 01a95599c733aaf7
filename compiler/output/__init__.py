"""Stage 5, output: deterministic files in output/ (manifest.yaml, kustomization.yaml, index.json).

Build aside, then swap: a reader never sees a half-written tenant folder.
"""

from compiler.output.files import (
    INDEX_FILE,
    KUSTOMIZATION,
    KUSTOMIZATION_FILE,
    MANIFEST_FILE,
    index_from_text,
    index_text,
    read_index,
    read_index_text,
    tenant_folders,
    write_outputs,
)
from compiler.output.yaml_emit import dump_document, dump_documents

__all__ = [
    "INDEX_FILE",
    "KUSTOMIZATION",
    "KUSTOMIZATION_FILE",
    "MANIFEST_FILE",
    "dump_document",
    "dump_documents",
    "index_from_text",
    "index_text",
    "read_index",
    "read_index_text",
    "tenant_folders",
    "write_outputs",
]
