package probe

// ColdReadCmd is coldReadCmd, for tests that run it for real.
var ColdReadCmd = coldReadCmd
