# Sensitive values on real hosts (TestReliabilityStatic/secrets): a
# sensitive variable written into a file and echoed by a command, a
# sensitive step whose capture is a token made on the host, a file and an
# output derived from that capture. None of these values may appear in
# plan output, progress, logs or -json.

recipe "secrets" {
  description = "sensitive values stay out of everything a person or a machine reads"
}

variable "db_password" {
  type        = string
  sensitive   = true
  description = "the database password"
}

variable "fail" {
  type        = bool
  default     = false
  description = "make the step that prints the password fail"
}

hosts "node" {
  count = 2
}

step "password" {
  on = hosts.node
  file {
    path    = "/root/db-password"
    content = "${var.db_password}\n"
    mode    = "0600"
  }
}

step "announce" {
  on  = hosts.node
  run = "echo 'the password is ${var.db_password}'; echo '${var.db_password}' >&2; ${var.fail ? "exit 4" : "true"}"
}

step "token" {
  on        = hosts.node[0]
  sensitive = true
  run       = "umask 077; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /root/token; cat /root/token"
  creates   = "/root/token"
  capture {
    token = "cat /root/token"
  }
}

step "token_copy" {
  on = hosts.node
  file {
    path    = "/root/token.copy"
    content = step.token.outputs.token
    mode    = "0600"
  }
}

output "token" {
  value = step.token.outputs.token
}

output "password_length" {
  value = length(var.db_password)
}
