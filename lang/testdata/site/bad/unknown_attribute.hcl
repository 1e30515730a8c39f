default_provider = "cloud"
workspace        = "prod" # ERROR: Unsupported argument
