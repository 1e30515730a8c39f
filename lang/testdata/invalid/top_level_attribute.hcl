recipe "t" {}

servers = 3 # ERROR: Unsupported argument
