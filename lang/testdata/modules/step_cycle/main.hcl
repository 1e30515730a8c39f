# STAGE: engine
recipe "t" {}
hosts "server" {}
step "r" {
  on  = hosts.server[0]
  run = "echo ${module.a.out}"
  capture { k = "echo k" }
}
module "a" {
  source = "./mods/a"
  on     = hosts.server[0]
  token  = step.r.outputs.k
}
