keep_runs = 2.5 # ERROR: Invalid keep_runs
