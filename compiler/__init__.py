"""ECP-AI Orchestrator: compiles tenant specs into validated Kubernetes manifests.

Stages, in the only direction data flows: spec -> sizing -> rendering -> validating -> output
-> publishing. `cli` and `service` are thin shells over them; see pyproject's import contract.
"""

__version__ = "0.1.0"
