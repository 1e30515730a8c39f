keep_runs = -1 # ERROR: Invalid keep_runs
