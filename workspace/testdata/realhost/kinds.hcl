# Every step kind on real hosts (TestRealHost/kinds): a package from the
# mirror, files, an xfs filesystem on the host's volume and its mount, a
# systemd unit installed with file and started with service, a wait on its
# port, and run steps with creates, unless and capture. Every run step
# appends its name to /var/tmp/realkinds/runs.log, so the test can count
# how often each ran.

recipe "realkinds" {
  description = "every step kind, for drift and repair tests on real hosts"
}

variable "nodes" {
  type        = number
  default     = 2
  description = "hosts to deploy on"
}

variable "greeting" {
  type        = string
  default     = "hello"
  description = "first word of /etc/diffuser-motd"
}

variable "marker_note" {
  type        = string
  default     = "first"
  description = "written into the marker run step's command; its creates guard keeps a change from running it again"
}

hosts "node" {
  count = var.nodes
  volume "data" { size_gb = 1 }
}

locals {
  log = "/var/tmp/realkinds/runs.log"
}

step "log_dir" {
  on      = hosts.node
  run     = "mkdir -p /var/tmp/realkinds && echo log_dir >> ${local.log}"
  creates = "/var/tmp/realkinds"
}

step "tools" {
  on      = hosts.node
  package = ["tree"]
}

step "motd" {
  on = hosts.node
  file {
    path    = "/etc/diffuser-motd"
    content = "${var.greeting} from ${host.name}\n"
    mode    = "0640"
  }
}

step "echo_unit" {
  on = hosts.node
  file {
    path    = "/etc/systemd/system/diffuser-echo.service"
    content = <<-EOT
      [Unit]
      Description=diffuser test listener: answers its host name on port 7777

      [Service]
      # systemd expands $VAR in ExecStart: $$ is a literal $.
      ExecStart=/usr/bin/perl -MIO::Socket::INET -e '$$s = IO::Socket::INET->new(LocalPort => 7777, Listen => 8, ReuseAddr => 1) or die "listen: $$!"; while ($$c = $$s->accept) { print $$c "${host.name}\n"; close $$c }'
      Restart=no

      [Install]
      WantedBy=multi-user.target
    EOT
  }
}

step "echo" {
  on    = hosts.node
  after = [step.echo_unit]
  service {
    name          = "diffuser-echo"
    state         = "started"
    enabled       = true
    daemon_reload = true
  }
}

step "echo_up" {
  on    = hosts.node
  after = [step.echo]
  wait {
    port    = 7777
    timeout = "60s"
  }
}

step "data_fs" {
  on = hosts.node
  format {
    device = host.volume.data.device
    fstype = "xfs"
  }
}

step "data_mount" {
  on    = hosts.node
  after = [step.data_fs]
  mount {
    source = host.volume.data.device
    target = "/srv/data"
    fstype = "xfs"
  }
}

step "marker" {
  on      = hosts.node
  after   = [step.data_mount, step.log_dir]
  run     = "echo marker >> ${local.log}; echo '${var.marker_note}' > /srv/data/marker"
  creates = "/srv/data/marker"
}

step "identity" {
  on     = hosts.node
  after  = [step.echo_up, step.log_dir]
  run    = "echo identity >> ${local.log}; touch /var/tmp/realkinds/identity-done"
  unless = "test -e /var/tmp/realkinds/identity-done"
  capture {
    hostname = "hostname"
    greeting = "head -n1 /etc/diffuser-motd"
  }
}

step "roster" {
  on    = hosts.node[0]
  after = [step.identity, step.marker]
  run   = "echo roster >> ${local.log}; echo '${join(" ", [for h in hosts.node : step.identity.hosts[h.name].outputs.hostname])}' > /var/tmp/realkinds/roster"
}

output "roster" {
  value = join(" ", [for h in hosts.node : step.identity.hosts[h.name].outputs.hostname])
}
