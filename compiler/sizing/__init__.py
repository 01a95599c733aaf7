"""Stage 2, sizing: pure functions from a spec and the catalogue to a resource plan.

Erlang C for capacity, k-of-n for availability, tier fit and cost. No I/O, no randomness: the same
inputs give the same plan, with every step recorded for `ecp calc --explain`.
"""
