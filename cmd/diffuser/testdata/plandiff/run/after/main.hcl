recipe "plandiff" {
  description = "run step diffs: command, guards, env, captures"
}

hosts "server" {}

step "daemon" {
  on      = hosts.server
  run     = "systemctl restart appd.service"
  creates = "/run/appd.pid"
  env     = { APP_MODE = "safe", APP_LOG = "info", APP_NEW = "2" }
  capture {
    version = "appd --version"
    port    = "appd --print-port"
  }
}

step "setup" {
  on  = hosts.server
  run = <<-EOT
    mkdir -p /srv/app
    chown app:app /srv/app
    appd init --data /srv/app
  EOT
}
