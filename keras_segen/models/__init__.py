"""Model builders, grouped by task."""
