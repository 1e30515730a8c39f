recipe "t" {}
hosts "server" {}
# Ten calls of m1, each calling m2 ten times, each calling m3 ten times:
# 1110 module instances, past MaxModules. The 1001st is the first call
# inside the tenth call of m1.
module "a1" {
  source = "./m1"
  on     = hosts.server
}
module "a2" {
  source = "./m1"
  on     = hosts.server
}
module "a3" {
  source = "./m1"
  on     = hosts.server
}
module "a4" {
  source = "./m1"
  on     = hosts.server
}
module "a5" {
  source = "./m1"
  on     = hosts.server
}
module "a6" {
  source = "./m1"
  on     = hosts.server
}
module "a7" {
  source = "./m1"
  on     = hosts.server
}
module "a8" {
  source = "./m1"
  on     = hosts.server
}
module "a9" {
  source = "./m1"
  on     = hosts.server
}
module "a10" {
  source = "./m1"
  on     = hosts.server
}
