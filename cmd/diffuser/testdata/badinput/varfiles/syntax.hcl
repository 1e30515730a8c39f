servers = [2 # ERROR: Unterminated tuple constructor expression
