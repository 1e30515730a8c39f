# builtin/package-repo on a real host (TestRealHostPackageRepo): a flat
# repository the test built and signed on the controller and copied into
# the container (a file: URI), then a package installed from it.

recipe "realpackagerepo" {
  description = "builtin/package-repo on a real host, and a package installed from the repository it adds"
}

variable "key" {
  type        = string
  description = "the armored public key the test's repository is (or is not) signed with"
}

hosts "node" {
  count = 1
}

module "repo" {
  source     = "builtin/package-repo"
  hosts      = hosts.node
  name       = "probe"
  uris       = ["file:///srv/diffuser-repo"]
  suites     = ["./"]
  components = []
  key        = var.key
}

# A package step, as a recipe installs packages after the module: the
# package depends on tree, which only the distribution's lists know, so the
# package step must still update those on this fresh host.
step "install" {
  on      = hosts.node
  after   = [module.repo]
  package = ["diffuser-repo-probe"]
  destroy = "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q diffuser-repo-probe"
}

output "repository" {
  value = module.repo.id
}
