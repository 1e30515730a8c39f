# STAGE: engine
recipe "t" {}

variable "key_mode" {
  type      = string
  default   = "secret"
  sensitive = true
}

hosts "server" {}

step "key" {
  on = hosts.server
  file {
    path    = "/etc/app/key"
    content = "x"
    mode    = var.key_mode # ERROR: Invalid file mode
  }
}
