recipe "t" {}
hosts "server" {}

# A validation of a module's input reads its other inputs. Only the
# calls that break a rule are refused, each at the input validated.
module "ok" {
  source  = "./mods/pool"
  on      = hosts.server
  servers = 4
  replica = 2
}

module "bad" {
  source  = "./mods/pool"
  on      = hosts.server
  servers = 3
  replica = 2 # ERROR: Invalid value for module input
}

module "both" {
  source  = "./mods/pool"
  on      = hosts.server
  servers = 1 # ERROR: Invalid value for module input
  replica = 2 # ERROR: Invalid value for module input
}

module "nokey" { # ERROR: Invalid value for module input
  source  = "./mods/pool"
  on      = hosts.server
  servers = 2
  replica = 2
  uris    = ["https://example.com/repo"]
}

module "withkey" {
  source  = "./mods/pool"
  on      = hosts.server
  servers = 2
  replica = 2
  uris    = ["https://example.com/repo"]
  key     = "secret"
}

# Turned off: its inputs are neither evaluated nor validated.
module "off" {
  source  = "./mods/pool"
  on      = hosts.server
  servers = 3
  replica = 2
  lifecycle {
    enabled = false
  }
}
