# %% [markdown]
# # Features (a Python script in Jupytext's percent format)
#
# Net amounts of the cleaned sales; runs as it is (`python src/features.py`) and as a pipeline
# step (`script: src/features.py`), where the cell tagged `parameters` gets the step's values.

# %% tags=["parameters"]
clean_csv = "../notebooks/out/clean.csv"  # the R step's cleaned sales
regions = 4  # how many regions the shell step counted
tax_rate = 0.2

# %%
import csv
import os

with open(clean_csv, newline="") as fh:
    sales = list(csv.DictReader(fh))
seen = sorted({row["region"] for row in sales})
assert len(seen) == regions, f"expected {regions} regions, found {seen}"
os.makedirs("out", exist_ok=True)
with open("out/features.csv", "w", newline="") as fh:
    out = csv.writer(fh)
    out.writerow(["region", "amount", "net"])
    for row in sales:
        amount = float(row["amount"])
        out.writerow([row["region"], amount, round(amount / (1 + tax_rate), 2)])
print(f"wrote {len(sales)} feature rows for regions {', '.join(seen)}")

# %%
from jupyter_ml_ship import record

record("rows", len(sales))
record("regions", seen)
