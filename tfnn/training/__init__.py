"""Training: one runner that every classification experiment goes through."""
