recipe "../../../tmp/evil" {} # ERROR: Invalid recipe name
