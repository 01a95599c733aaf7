"""Stage 6, publishing: commits compiled output to the deploy repo that Argo CD or Flux syncs.
"""
