recipe "t" {}

recipe "u" {} # ERROR: Duplicate recipe block
