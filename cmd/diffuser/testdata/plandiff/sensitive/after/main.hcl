recipe "plandiff" {
  description = "sensitive values in plan diffs"
}

variable "password" {
  type      = string
  sensitive = true
  default   = "new-password"
}

variable "user" {
  type    = string
  default = "admin2"
}

hosts "server" {}

# The command holds a sensitive variable: never printed, before or after.
step "login" {
  on  = hosts.server
  run = "app-login --user ${shellquote(var.user)} --password ${shellquote(var.password)}"
}

# A step marked sensitive: none of its arguments are printed.
step "token" {
  on        = hosts.server
  run       = "app-token --set t0ken-two"
  sensitive = true
}

# Plain before; after, one attribute reads the sensitive variable.
step "greeting" {
  on  = hosts.server
  run = "echo hello ${shellquote(var.user)}"
  env = { GREETING = "${var.password}" }
}
