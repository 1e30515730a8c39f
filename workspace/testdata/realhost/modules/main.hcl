# The standard library's modules on real hosts (TestRealHostModules): an
# XFS volume formatted and mounted by builtin/xfs-volume, and a systemd
# service installed, started and enabled by builtin/systemd-unit.

recipe "realmodules" {
  description = "builtin/xfs-volume and builtin/systemd-unit on real hosts"
}

variable "sleep_note" {
  type        = string
  default     = "first"
  description = "goes into the unit's Description: changing it changes the unit file"
}

hosts "node" {
  count = 2
  volume "data" { size_gb = 1 }
}

module "data" {
  source = "builtin/xfs-volume"
  on     = hosts.node
  device = host.volume.data.device
  target = "/srv/moddata"
  label  = "moddata"
}

module "sleeper" {
  source  = "builtin/systemd-unit"
  on      = hosts.node
  after   = [module.data]
  name    = "diffuser-modsleep"
  content = <<-EOT
    [Unit]
    Description=diffuser module test (${var.sleep_note}): keeps a file open under ${module.data.target}

    [Service]
    ExecStart=/usr/bin/sleep infinity
    WorkingDirectory=${module.data.target}

    [Install]
    WantedBy=multi-user.target
  EOT
}

output "unit" {
  value = module.sleeper.unit
}
