default_provider = ["cloud"] # ERROR: Expected a string
