"""The tenant spec's JSON Schema (from the pydantic model), for editors that validate while typing.

Pure: returns text; `ecp schema` writes it to tenants/tenant.schema.json.
"""

from __future__ import annotations

import json

from compiler.spec.ids import MAX_TENANT_ID
from compiler.spec.models import TenantSpec

SCHEMA_FILE = "tenant.schema.json"
SCHEMA_ID = "https://ecp.ai/schemas/tenant-spec.json"


def tenant_schema_text() -> str:
    schema = TenantSpec.model_json_schema(mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }
    schema["properties"]["tenant_id"].update(
        {"pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": MAX_TENANT_ID}
    )
    for field in ("availability", "response_time"):
        schema["$defs"]["SlaTarget"]["properties"][field]["pattern"] = (
            r"^\d{1,3}(\.\d{1,4})?%$" if field == "availability" else r"^\d+(\.\d+)?(ms|s)$"
        )
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
