recipe "t" {}
hosts "server" {}
module "a" {
  source = "./mods/a"
  on     = hosts.server
}
step "y" {
  on  = hosts.server
  run = "echo ${module.a.gretting}" # ERROR: Unknown module output
}
