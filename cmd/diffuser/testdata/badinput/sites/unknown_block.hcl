default_provider = "static"

providers "static" { # ERROR: Unsupported block type
  user = "admin"
}
