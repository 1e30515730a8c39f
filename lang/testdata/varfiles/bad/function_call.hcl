servers = max(2, 3) # ERROR: Function calls not allowed
