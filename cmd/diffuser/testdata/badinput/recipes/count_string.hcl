recipe "bad" {}

variable "servers" {
  type    = string
  default = "three"
}

hosts "server" {
  count = var.servers # ERROR: Expected a number
}
