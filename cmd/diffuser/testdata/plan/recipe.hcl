recipe "golden" {
  description = "A small recipe for plan golden files"
}

variable "workers" {
  type    = number
  default = 2
}

variable "greeting" {
  type    = string
  default = "hello"
}

variable "token" {
  type      = string
  default   = "s3cr3t-token"
  sensitive = true
}

hosts "head" {
  volume "data" { size_gb = 1 }
}

hosts "worker" { count = var.workers }

step "tools" {
  on      = hosts.worker
  package = ["curl"]
}

step "config" {
  on = hosts.worker
  file {
    path    = "/etc/golden.conf"
    content = "greeting = ${var.greeting}\nhead = ${hosts.head[0].private_ip}\n"
  }
}

step "format" {
  on = hosts.head
  format {
    device = host.volume.data.device
    fstype = "xfs"
  }
}

step "register" {
  on    = hosts.worker
  after = [step.tools, step.config]
  run   = "register --token ${shellquote(var.token)} --name ${host.name}"
}

step "announce" {
  on        = hosts.head[0]
  after_all = [step.register]
  run       = "echo ${shellquote(var.greeting)} from ${join(",", [for h in hosts.worker : h.name])}"
  unless    = "test -e /var/tmp/announced"
}

output "head" {
  value = hosts.head[0].private_ip
}
