"""Stage 5, output: deterministic files in output/ (manifest.yaml, kustomization.yaml, index.json).

Build aside, then swap: a reader never sees a half-written tenant folder.
"""
