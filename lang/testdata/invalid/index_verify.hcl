# STAGE: engine
recipe "t" {}

variable "nodes" {
  type    = number
  default = 3
}

hosts "node" { count = var.nodes }

verify "roundtrip" {
  on   = hosts.node[var.nodes] # ERROR: Invalid index
  path = "/mnt/data"
}
