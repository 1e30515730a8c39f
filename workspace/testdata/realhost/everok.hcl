# A step that succeeds, then fails on its next run (TestRealHost/undo):
# its destroy command must still run when it leaves the recipe, and a
# failing destroy command keeps it in state. The marker file is what the
# step made; the destroy command removes it.

recipe "everok" {
  description = "undo of an instance that once succeeded, on a real host"
}

variable "v" {
  type    = string
  default = "1"
}

variable "keep" {
  type    = bool
  default = true
}

variable "undo_fails" {
  type    = bool
  default = false
}

hosts "node" {
  count = 1
}

step "make" {
  on      = var.keep ? hosts.node : []
  run     = var.v == "1" ? "mkdir -p /var/tmp/everok && echo made > /var/tmp/everok/marker" : "echo 'cannot make version ${var.v}' >&2; exit 3"
  destroy = var.undo_fails ? "echo 'undo refused' >&2; exit 4" : "rm -f /var/tmp/everok/marker"
}
