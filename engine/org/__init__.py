"""People and places: the org tree (district, departments, towns, villages and their groups), accounts,
tokens and passwords, who may see which case, and the counters that throttle guessing."""
