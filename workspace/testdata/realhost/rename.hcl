# A builtin/systemd-unit call whose name changes (TestRealHost/rename):
# both names serve one port, so the new unit starts only if the old one
# is gone. The unit step is replaced: the destroy command recorded for the
# old name stops and disables the old unit and removes its file, then the
# new file is written and the service step starts the new unit.

recipe "rename" {
  description = "a systemd unit renamed on a real host"
}

variable "name" {
  type    = string
  default = "diffuser-webd"
}

hosts "node" {
  count = 1
}

module "web" {
  source  = "builtin/systemd-unit"
  on      = hosts.node
  name    = var.name
  content = <<-EOT
    [Unit]
    Description=diffuser rename test (${var.name})

    [Service]
    ExecStart=/usr/bin/python3 -m http.server 7781 --bind 127.0.0.1 --directory /var/tmp

    [Install]
    WantedBy=multi-user.target
  EOT
}
