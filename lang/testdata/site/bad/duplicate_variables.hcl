variables {
  servers = 3
}

variables { # ERROR: Duplicate variables block
  replica = 2
}
