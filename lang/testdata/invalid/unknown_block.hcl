recipe "t" {}

resource "aws_instance" "x" {} # ERROR: Unsupported block type
