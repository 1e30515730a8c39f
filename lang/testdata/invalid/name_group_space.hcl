recipe "t" {}

hosts "my server" {} # ERROR: Invalid hosts name
