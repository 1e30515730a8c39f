replica = var.servers # ERROR: Variables not allowed
