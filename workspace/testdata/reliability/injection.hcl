# Hostile variable values in every place a recipe can put a value
# (TestReliabilityStatic/injection): a run command through shellquote, its
# env, creates and capture, a file's path and content, a mount target and a
# package name. None of it may run: the test looks for the files the
# payloads would touch and for the directory they would remove.

recipe "injection" {
  description = "shell metacharacters in values never reach a shell unquoted"
}

variable "evil" {
  type        = string
  description = "free text: command substitutions, separators, quotes, a newline"
  default     = "$(touch /tmp/pwned) `touch /tmp/pwned`; touch /tmp/pwned && rm -rf /tmp/diffuser-canary || rm -rf /tmp/diffuser-canary | sh -c 'touch /tmp/pwned' \"$HOME\" \\ ' \" ${"$"}{IFS}\nsecond line; touch /tmp/pwned"
}

variable "evil_word" {
  type        = string
  description = "the same without spaces, slashes or newlines: usable in a file name"
  default     = "x$(touch$${IFS}pwned)`touch$${IFS}pwned`;touch$${IFS}pwned;rm$${IFS}-rf$${IFS}..'\"\\*?[a]{b,c}"
}

hosts "node" {
  count = 2
}

locals {
  dir = "/tmp/diffuser-inject"
}

step "dir" {
  on  = hosts.node
  run = "mkdir -p ${local.dir}"
}

step "echo" {
  on      = hosts.node
  after   = [step.dir]
  run     = "printf '%s' ${shellquote(var.evil)} > ${local.dir}/echo.txt; printf '%s' \"$EVIL\" > ${local.dir}/env.txt"
  creates = "${local.dir}/${var.evil_word}.done"
  env     = { EVIL = var.evil }
  capture {
    echoed = "cat ${local.dir}/echo.txt"
  }
}

step "file" {
  on    = hosts.node
  after = [step.dir]
  file {
    path    = "${local.dir}/${var.evil_word}"
    content = var.evil
  }
}

step "mount" {
  on    = hosts.node
  after = [step.dir]
  mount {
    source = "tmpfs"
    target = "${local.dir}/mnt-${var.evil_word}"
    fstype = "tmpfs"
  }
}

step "package" {
  on      = hosts.node
  after   = [step.echo, step.file, step.mount]
  package = [var.evil_word]
}
