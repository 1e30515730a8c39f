# A step that succeeds, then fails on its next run (TestRealHost/undo):
# its destroy command must still run when it leaves the recipe, and a
# failing destroy command keeps it in state. The marker file is what the
# step made; the destroy command removes it unless /var/tmp/everok/refuse
# exists.

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

hosts "node" {
  count = 1
}

step "make" {
  on      = var.keep ? hosts.node : []
  run     = var.v == "1" ? "mkdir -p /var/tmp/everok && echo made > /var/tmp/everok/marker" : "echo 'cannot make version ${var.v}' >&2; exit 3"
  # The destroy command is recorded in state when the step runs, so the
  # test makes it fail with a file on the host, not with a variable.
  destroy = "if [ -e /var/tmp/everok/refuse ]; then echo 'undo refused' >&2; exit 4; fi; rm -f /var/tmp/everok/marker"
}
