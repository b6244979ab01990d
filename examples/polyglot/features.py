# %% [markdown]
# # Features (a Python script in Jupytext's percent format)
#
# Ship it like a notebook: `ml-ship ship examples/polyglot/features.py --run -p rows 20 --wait`.
# The cell tagged `parameters` holds its parameters; `record()` hands values to later steps.

# %% tags=["parameters"]
rows = 10  # how many values to draw
seed = 7

# %%
import random

from jupyter_ml_ship import record

rng = random.Random(seed)
values = [round(rng.gauss(50, 10), 2) for _ in range(rows)]
print(f"drew {rows} values, first {values[:3]}")
record("values", values)
record("source", f"gauss(50, 10) seed {seed}")
