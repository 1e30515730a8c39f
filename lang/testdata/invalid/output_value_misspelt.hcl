recipe "t" {}

hosts "a" {
  volume "b" {
    size_g = 1 # ERROR: Unsupported argument
  }
}

output "x" {
  valeu = 1 # ERROR: Unsupported argument
}
