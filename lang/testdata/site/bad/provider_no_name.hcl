provider { # ERROR: Missing name for provider
  region = "eu-west-1"
}
