# Site file for local clusters on this machine's Docker Engine (the default
# provider). Copy it to ./diffuser.hcl or pass it with -site.
default_provider = "docker"

# Runs (each apply or destroy: its record, step logs and timeline) each
# workspace keeps; 0 keeps them all. -keep-runs on the command line wins.
keep_runs = 20

provider "docker" {
  # Containers resolve the Debian mirror the way this machine does; print
  # the right entries with scripts/mirror-hosts.sh.
  extra_hosts = ["deb.debian.org:203.0.113.80"]

  # network_cidr = "172.30.0.0/24"   # default: Docker picks a free subnet
  # memory       = "2g"              # per container; default: no limit
  # image        = "diffuser-node:mine"  # use your own image instead of building one
}

# Values for recipe variables; a value for a variable a recipe does not
# declare is ignored with a warning, so one site file serves every recipe.
variables {
  clients = 1
}
