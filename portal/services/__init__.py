"""Domain operations as plain functions: they flush, the caller commits."""
