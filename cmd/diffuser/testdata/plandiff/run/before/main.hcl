recipe "plandiff" {
  description = "run step diffs: command, guards, env, captures"
}

hosts "server" {}

step "daemon" {
  on      = hosts.server
  run     = "systemctl restart appd"
  unless  = "systemctl is-active appd"
  env     = { APP_MODE = "fast", APP_LOG = "info", APP_OLD = "1" }
  capture {
    version = "appd --version"
  }
}

step "setup" {
  on  = hosts.server
  run = <<-EOT
    mkdir -p /srv/app
    chown app /srv/app
    appd init --data /srv/app
  EOT
}
