"""TensorBoard writers and callbacks shared by every experiment.

One small writer per dashboard: graphs, scalars, layer statistics, images,
embeddings and HParams. Experiments never write summaries by hand.
"""
