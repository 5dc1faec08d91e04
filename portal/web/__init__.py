"""The web layer: what every request shares (the gate, tenant routing, the
transaction boundary, templates, errors, forms, pagination)."""
