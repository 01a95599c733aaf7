"""Stage 1, spec: reads and validates tenant specs (tenants/<id>.yaml).

Input: YAML bytes and their path. Output: frozen TenantSpec models, or SpecInvalid naming file:line
and field. The only place that parses specs. No sizing, no rendering.
"""
