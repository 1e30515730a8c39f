variables {
  servers = 2
}

variables { # ERROR: Duplicate variables block
  greeting = "hi"
}
