"""Studies: a report's grid of runs with one summary figure and table (`tfnn study NAME`)."""
