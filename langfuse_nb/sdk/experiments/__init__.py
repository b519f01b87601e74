"""Experiments (``run_experiment``) and batch evaluation (``run_batched_evaluation``).

Modules: ``evaluation`` (Evaluation, calling user callbacks), ``results`` / ``batch_results`` (result
types), ``runner`` (experiment loop), ``batch`` (batch-evaluation loop), ``format`` (text/HTML),
``dataframe`` (pandas, lazy), ``progress`` (tqdm.auto bars), ``mixin`` (the client methods).
"""
