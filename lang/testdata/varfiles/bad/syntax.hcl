servers = 3
replica = # ERROR: Invalid expression
