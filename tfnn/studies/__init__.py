"""Studies: a report's grid of runs with one summary figure and table (`tfnn study NAME`).

One module per study (``moons``, ``cnn_variants``, ``dnn_compare``, ``vu_mlp``,
``cifar``), each with a ``run_study(logdir, steps, seed, ..., print_fn)`` that returns
the study directory it wrote, and the machinery they share: ``grid`` (variants trained
over consecutive seeds, resumable), ``seed_summary`` (mean ± std, the verdict against a
report's number, the table and the bar chart) and ``scalars`` (per-epoch values read
back from a run's event files).
"""
