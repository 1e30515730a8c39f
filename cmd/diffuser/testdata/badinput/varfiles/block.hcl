variables { # ERROR: Unexpected "variables" block
  servers = 3
}
