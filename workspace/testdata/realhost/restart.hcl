# restart_on on real hosts: a config file and a daemon that reads it at
# start; changing the file on one host restarts only that host's daemon.
recipe "restart" {}

variable "greeting" { default = "hello" }

hosts "node" { count = 2 }

step "conf" {
  on = hosts.node
  file {
    path    = "/etc/restart-demo.conf"
    content = "${host.index == 1 ? var.greeting : "fixed"}\n"
  }
}

step "unit" {
  on = hosts.node
  file {
    path    = "/etc/systemd/system/restart-demo.service"
    content = <<-EOT
      [Unit]
      Description=diffuser restart_on test daemon: reads its config at start

      [Service]
      ExecStart=/bin/sh -c 'cat /etc/restart-demo.conf > /run/restart-demo.seen; exec sleep infinity'

      [Install]
      WantedBy=multi-user.target
    EOT
  }
}

step "daemon" {
  on         = hosts.node
  after      = [step.unit]
  restart_on = [step.conf]
  service {
    name          = "restart-demo"
    state         = "started"
    daemon_reload = true
  }
}

output "os" { value = "${hosts.node[0].facts.os.id} ${hosts.node[0].facts.os.version_id}" }
