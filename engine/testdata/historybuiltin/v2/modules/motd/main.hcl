module_info {
  description = "a login banner and the oneshot service that puts it in /run/motd.dynamic"
}

variable "banner" {
  type        = string
  description = "the banner's first words"
}

step "banner" {
  file {
    path    = "/etc/motd.d/banner"
    content = "${var.banner} to ${host.hostname}\n"
  }
}

module "unit" {
  source  = "builtin/systemd-unit"
  name    = "motd-refresh"
  content = "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'cat /etc/motd.d/* > /run/motd.dynamic'\n[Install]\nWantedBy=multi-user.target\n"
}
