recipe "t" {}

hosts "server" { count = 2 }

hosts "server" { count = 3 } # ERROR: Duplicate host group
