"""Stage 3, rendering: a resource plan to Kubernetes objects (plain dicts), through Jinja2.

Templates are StrictUndefined; objects come out in Helm's install order, by name within a kind.
No I/O beyond reading the packaged templates; no validation.
"""

from compiler.rendering.render import Renderer, RenderOptions, install_order_key

__all__ = ["RenderOptions", "Renderer", "install_order_key"]
