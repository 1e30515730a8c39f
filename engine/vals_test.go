package engine_test

import (
	"diffuser/cloud"

	"github.com/zclconf/go-cty/cty"
)

var (
	nilVal   = cty.NilVal
	cloudEnv = cloud.Env{}
)
