recipe "t" {
  description = ["GlusterFS"] # ERROR: Expected a string
}
