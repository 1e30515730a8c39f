# validate -json golden case: a failed precondition, with the values its
# condition read.
recipe "layout" {}

variable "servers" {
  type    = number
  default = 3
}

variable "replica" {
  type    = number
  default = 2
}

hosts "server" {
  count = var.servers
  precondition {
    condition     = var.servers % var.replica == 0
    error_message = "servers (${var.servers}) must be a multiple of replica (${var.replica})."
  }
}

step "hello" {
  on  = hosts.server
  run = "true"
}
