recipe "restart" {
  description = "restart_on and reload_on for plan golden files"
}

variable "conf" { default = "a" }
variable "peers" { default = "p" }

hosts "head" {}
hosts "worker" { count = 2 }

step "conf" {
  on = hosts.worker
  file {
    path    = "/etc/daemon.conf"
    content = "${host.index == 1 ? var.conf : "fixed"}\n"
  }
}

step "peers" {
  on = hosts.head
  file {
    path    = "/etc/peers"
    content = "${var.peers}\n"
  }
}

step "daemon" {
  on         = hosts.worker
  restart_on = [step.conf]
  reload_on  = [step.peers]
  service { name = "daemon" }
}
