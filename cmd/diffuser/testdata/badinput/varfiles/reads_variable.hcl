greeting = "hello ${var.servers}" # ERROR: Variables not allowed
