"""`tfnn reproduce`: every seed report's experiments, then REPORT.md with theirs vs ours.

- :mod:`tfnn.reproduce.sections`: the reports, their parts and each part's settings
  (full and quick budgets) and commands; TensorFlow-free.
- :mod:`tfnn.reproduce.runs`: one function per part that calls the library
  (studies, experiments, the tuner, the 2-12-5 network) and returns where the
  results went.
- :mod:`tfnn.reproduce.rows`: the table rows and figures of each part, read back
  from the runs' ``results.json`` files (one module per course).
- :mod:`tfnn.reproduce.report`: runs the parts (resumably) and writes REPORT.md.
"""
