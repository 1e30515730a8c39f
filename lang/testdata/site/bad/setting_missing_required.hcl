provider "cloud" { # ERROR: Missing required argument
  instance_type = "t3.small"
}
