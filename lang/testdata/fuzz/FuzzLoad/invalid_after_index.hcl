go test fuzz v1
[]byte("recipe \"t\" {}\n\nhosts \"server\" {}\n\nstep \"a\" {\n  on  = hosts.server\n  run = \"true\"\n}\n\nstep \"b\" {\n  on    = hosts.server\n  after = [step[\"a\"]] # ERROR: Invalid after entry\n  run   = \"true\"\n}\n")
