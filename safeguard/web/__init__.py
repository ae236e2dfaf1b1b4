"""HTTP layer: app assembly, auth dependencies, security middleware, templates."""
