recipe "unquoted" {
  description = "A user's value pasted into a command: valid, with a warning"
}

variable "user" {
  type        = string
  default     = "alice"
  description = "the account to make"
}

hosts "server" {}

step "account" {
  on     = hosts.server
  run    = "useradd ${var.user}"
  unless = "id ${shellquote(var.user)}"
}
