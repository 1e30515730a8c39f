recipe "t" {}
hosts "server" {}
module "m1" {
  source = "./m1"
  on     = hosts.server
}
