recipe "motd" {
  description = "A login banner and a service that refreshes it"
}

variable "banner" {
  type    = string
  default = "welcome"
}

hosts "node" {
  count = 2
}

step "banner" {
  on = hosts.node
  file {
    path    = "/etc/motd.d/banner"
    content = "${var.banner} to ${host.hostname}\n"
  }
}

step "refresher_unit" {
  on = hosts.node
  file {
    path    = "/etc/systemd/system/motd-refresh.service"
    content = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'cat /etc/motd.d/* > /run/motd.dynamic'\n[Install]\nWantedBy=multi-user.target\n"
  }
}

step "refresher" {
  on         = hosts.node
  after      = [step.refresher_unit]
  restart_on = [step.banner]
  service {
    name          = "motd-refresh"
    enabled       = true
    daemon_reload = true
  }
}
