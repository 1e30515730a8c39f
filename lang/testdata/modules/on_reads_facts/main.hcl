# STAGE: engine
recipe "t" {}
hosts "server" { count = 2 }
module "a" {
  source = "./mods/a"
  on     = [for h in hosts.server : h if h.facts.cores > 2] # ERROR: on not known before apply
}
