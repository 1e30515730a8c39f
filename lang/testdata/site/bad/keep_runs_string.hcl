keep_runs = "many" # ERROR: Invalid keep_runs
