package probe

// ColdReadCmd is coldReadCmd, for tests that run it for real.
var ColdReadCmd = coldReadCmd

// FSType is fsType, for tests of what a host may answer.
var FSType = fsType
