recipe "trivial" {
  description = "20 trivial steps per host, each after the previous one on the same host (like 20 Ansible tasks)"
}

variable "hosts" {
  type    = number
  default = 4
}

variable "round" {
  type    = number
  default = 1
}

hosts "node" { count = var.hosts }

step "t01" {
  on  = hosts.node
  run = "echo ${var.round} 01 >/dev/null"
}
step "t02" {
  on    = hosts.node
  after = [step.t01]
  run   = "echo ${var.round} 02 >/dev/null"
}
step "t03" {
  on    = hosts.node
  after = [step.t02]
  run   = "echo ${var.round} 03 >/dev/null"
}
step "t04" {
  on    = hosts.node
  after = [step.t03]
  run   = "echo ${var.round} 04 >/dev/null"
}
step "t05" {
  on    = hosts.node
  after = [step.t04]
  run   = "echo ${var.round} 05 >/dev/null"
}
step "t06" {
  on    = hosts.node
  after = [step.t05]
  run   = "echo ${var.round} 06 >/dev/null"
}
step "t07" {
  on    = hosts.node
  after = [step.t06]
  run   = "echo ${var.round} 07 >/dev/null"
}
step "t08" {
  on    = hosts.node
  after = [step.t07]
  run   = "echo ${var.round} 08 >/dev/null"
}
step "t09" {
  on    = hosts.node
  after = [step.t08]
  run   = "echo ${var.round} 09 >/dev/null"
}
step "t10" {
  on    = hosts.node
  after = [step.t09]
  run   = "echo ${var.round} 10 >/dev/null"
}
step "t11" {
  on    = hosts.node
  after = [step.t10]
  run   = "echo ${var.round} 11 >/dev/null"
}
step "t12" {
  on    = hosts.node
  after = [step.t11]
  run   = "echo ${var.round} 12 >/dev/null"
}
step "t13" {
  on    = hosts.node
  after = [step.t12]
  run   = "echo ${var.round} 13 >/dev/null"
}
step "t14" {
  on    = hosts.node
  after = [step.t13]
  run   = "echo ${var.round} 14 >/dev/null"
}
step "t15" {
  on    = hosts.node
  after = [step.t14]
  run   = "echo ${var.round} 15 >/dev/null"
}
step "t16" {
  on    = hosts.node
  after = [step.t15]
  run   = "echo ${var.round} 16 >/dev/null"
}
step "t17" {
  on    = hosts.node
  after = [step.t16]
  run   = "echo ${var.round} 17 >/dev/null"
}
step "t18" {
  on    = hosts.node
  after = [step.t17]
  run   = "echo ${var.round} 18 >/dev/null"
}
step "t19" {
  on    = hosts.node
  after = [step.t18]
  run   = "echo ${var.round} 19 >/dev/null"
}
step "t20" {
  on    = hosts.node
  after = [step.t19]
  run   = "echo ${var.round} 20 >/dev/null"
}
