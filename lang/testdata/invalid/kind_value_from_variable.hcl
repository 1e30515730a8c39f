# STAGE: engine
recipe "t" {}

variable "mode" {
  type    = string
  default = "644 "
}

hosts "server" {}

step "config" {
  on = hosts.server
  file {
    path    = "/etc/app.conf"
    content = "x"
    mode    = var.mode # ERROR: Invalid file mode
  }
}
