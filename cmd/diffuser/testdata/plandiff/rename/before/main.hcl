recipe "plandiff" {
  description = "a file or a unit renamed is replaced when its step has a destroy command, else updated"
}

hosts "server" {}

module "web" {
  source  = "builtin/systemd-unit"
  on      = hosts.server
  name    = "webd"
  content = "[Service]\nExecStart=/usr/bin/python3 -m http.server 8080\n"
}

step "site" {
  on = hosts.server
  file {
    path    = "/etc/nginx/sites-enabled/app"
    content = "server {}\n"
  }
  destroy = "rm -f /etc/nginx/sites-enabled/app"
}

step "worker" {
  on = hosts.server
  service {
    name = "worker-v1"
  }
  destroy = "systemctl disable --now worker-v1"
}

step "motd" {
  on = hosts.server
  file {
    path    = "/etc/motd"
    content = "hello\n"
  }
}
