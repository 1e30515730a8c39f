recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  lifecycle {
    enabled = host.facts.os.family == "debian" # ERROR: host not available here
  }
}
