# A recipe given as the site file: one error, not one per block.
recipe "oops" { # ERROR: Recipe given as the site file
  description = "a recipe"
}

variable "servers" {
  default = 2
}

hosts "server" {
  count = var.servers
}
