default_provider = ["static"] # ERROR: Expected a string
