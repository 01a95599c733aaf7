"""What the policy-rule tests share: the clean reference set and one validator per process.

tests/fixtures/validating/differential_valid.yaml is a 3-replica callbot Deployment (0), its
Service (1), Namespace (3), PDB (7) and HPA (8) that pass every rule; a test copies it with
`clean()` and changes one thing.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from compiler.validating import ManifestValidator

FIXTURES = Path(__file__).parent / "fixtures" / "validating"
CLEAN = list(yaml.safe_load_all((FIXTURES / "differential_valid.yaml").read_text(encoding="utf-8")))
DEPLOYMENT, SERVICE, NAMESPACE, PDB, HPA = 0, 1, 3, 7, 8
C0 = "spec.template.spec.containers[0]"
Docs = list[dict[str, Any]]

# One per process, its schemas compiled on first use: the forks of a mutation run (make mutation)
# inherit them instead of compiling them again for every mutant. Only validate() is called on it.
VALIDATOR = ManifestValidator("1.33")


def clean() -> Docs:
    return copy.deepcopy(CLEAN)
