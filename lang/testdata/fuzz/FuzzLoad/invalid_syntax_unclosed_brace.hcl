go test fuzz v1
[]byte("recipe \"t\" {}\n\nhosts \"server\" { # ERROR: Unclosed configuration block\n  count = 2\n\nstep \"s\" {\n  on  = hosts.server\n  run = \"true\"\n}\n")
