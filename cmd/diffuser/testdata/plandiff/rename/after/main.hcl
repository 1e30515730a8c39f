recipe "plandiff" {
  description = "a file or a unit renamed is replaced when its step has a destroy command, else updated"
}

hosts "server" {}

# The unit's name changes: its unit file step is replaced (its destroy
# command stops, disables and removes webd first); the service step,
# without a destroy command, is updated and starts webd2.
module "web" {
  source  = "builtin/systemd-unit"
  on      = hosts.server
  name    = "webd2"
  content = "[Service]\nExecStart=/usr/bin/python3 -m http.server 8080\n"
}

# The path changes: replaced (the old path's destroy command runs first).
step "site" {
  on = hosts.server
  file {
    path    = "/etc/nginx/sites-enabled/app2"
    content = "server {}\n"
  }
  destroy = "rm -f /etc/nginx/sites-enabled/app2"
}

# The unit changes: replaced (worker-v1's destroy command runs first).
step "worker" {
  on = hosts.server
  service {
    name = "worker-v2"
  }
  destroy = "systemctl disable --now worker-v2"
}

# The path changes, no destroy command: updated in place (/etc/motd stays).
step "motd" {
  on = hosts.server
  file {
    path    = "/etc/motd.d/hello"
    content = "hello\n"
  }
}
