# ERROR(line 12): Unknown variable
recipe "bad" {}

variable "volume_name" { default = "gv0" }

hosts "server" { count = 2 }

step "volume" {
  on  = hosts.server[0]
  run = <<-EOT
    set -e
    gluster volume create ${var.volume} force
    gluster volume start ${var.volume_name}
  EOT
}
