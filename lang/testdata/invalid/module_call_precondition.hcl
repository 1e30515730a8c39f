recipe "t" {}

hosts "server" {}

module "x" {
  source = "./nowhere"
  on     = hosts.server
  precondition { # ERROR: Block in a module call
    condition     = true
    error_message = "x"
  }
}
