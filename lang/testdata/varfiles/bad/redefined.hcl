servers = 3
servers = 4 # ERROR: Attribute redefined
