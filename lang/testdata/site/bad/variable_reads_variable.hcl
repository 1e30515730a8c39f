variables {
  servers = 3
  replica = var.servers # ERROR: Variables not allowed
}
