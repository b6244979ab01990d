"""The pipeline engine: versions, runs, the executor that plans and starts steps, and the
scheduler process that drives a run. Core writes pipeline state here only; the pure part (the
file's spec, templates, analysis, models) is ``jupyter_ml_ship.pipelines``."""
