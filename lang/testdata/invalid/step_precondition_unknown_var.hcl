recipe "t" {}

hosts "server" {}

variable "public_addresses" {
  type    = list(string)
  default = []
}

step "s" {
  on  = hosts.server
  run = "true"
  precondition {
    condition     = length(var.public_address) == 0 # ERROR: Unknown variable
    error_message = "no"
  }
}
