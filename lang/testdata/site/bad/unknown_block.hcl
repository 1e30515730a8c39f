providers "cloud" { # ERROR: Unsupported block type
  region = "eu-west-1"
}
