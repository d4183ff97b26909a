"""Browser pages. Thin: they parse input, call audits.services / audits.selectors and render."""
