recipe "dir" {}

hosts "server" { count = 2 }
