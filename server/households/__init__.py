"""The household registry: each household keeps its identity (code) across yearly reviews, with
its status in each year, so that lists can be sent to phones and results can carry their
transitions (newly poor, escaped poverty, relapsed …)."""
