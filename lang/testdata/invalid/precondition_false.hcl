recipe "t" {}

variable "replicas" {
  type    = number
  default = 3
}

variable "servers" {
  type    = number
  default = 2
}

hosts "server" {
  count = var.servers
}

precondition {
  condition     = var.replicas <= var.servers # ERROR: Recipe precondition failed
  error_message = "replicas (${var.replicas}) cannot exceed servers (${var.servers})."
}

step "s" {
  on  = hosts.server
  run = "true"
}
