# %% [markdown]
# # Score (an R script in Jupytext's percent format)
#
# `ml-ship ship examples/polyglot/score.R --run -p mean 48.5 --wait` runs it with IRkernel;
# `record()` is defined in the R kernel by the runner.

# %% Parameters
mean <- 50  # the model's mean
sd <- 10
threshold <- 60

# %%
p_above <- 1 - pnorm(threshold, mean = mean, sd = sd)
cat(sprintf("P(value > %s) = %.3f\n", threshold, p_above))
record("p_above", p_above)
