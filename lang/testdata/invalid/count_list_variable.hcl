recipe "t" {}

variable "servers" {
  default = ["a", "b"]
}

hosts "server" {
  count = var.servers # ERROR: Expected a number
}
