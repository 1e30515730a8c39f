recipe "bad" {}

variable "servers" { default = 200000 }

hosts "server" {
  count = var.servers # ERROR: Value out of range
}
