recipe "t" {}

variable "volume_name" { default = "gv0" }

hosts "server" {}

step "volume" {
  on  = hosts.server
  run = "gluster volume start ${var.volume}" # ERROR: Unknown variable
}
