package lang

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// reachIPFunc is reach_ip(from, to): the address host from uses to reach
// host to. Hosts on the same provider share its network: to's private_ip.
// Across providers: to's public_ip (its private_ip when it has none; the
// plan warns about pairs that cannot reach each other). Unknown until both
// hosts are launched. On one provider it is always private_ip, so a recipe
// written with it behaves as before there.
var reachIPFunc = function.New(&function.Spec{
	Description: "The address host `from` reaches host `to` at: private_ip on the same provider, public_ip across providers.",
	Params: []function.Parameter{
		{Name: "from", Type: cty.DynamicPseudoType, AllowUnknown: true},
		{Name: "to", Type: cty.DynamicPseudoType, AllowUnknown: true},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		for i, a := range args {
			ty := a.Type()
			if !ty.IsObjectType() || !ty.HasAttribute("provider") || !ty.HasAttribute("private_ip") || !ty.HasAttribute("public_ip") {
				return cty.UnknownVal(cty.String), function.NewArgErrorf(i, "reach_ip takes two hosts, such as reach_ip(host, hosts.server[0])")
			}
		}
		from, to := args[0], args[1]
		fp, tp := from.GetAttr("provider"), to.GetAttr("provider")
		if !fp.IsKnown() || !tp.IsKnown() {
			return cty.UnknownVal(cty.String).RefineNotNull(), nil
		}
		if fp.IsNull() || tp.IsNull() || fp.Equals(tp).True() {
			return to.GetAttr("private_ip"), nil
		}
		pub := to.GetAttr("public_ip")
		if pub.IsKnown() && !pub.IsNull() && pub.AsString() == "" {
			return to.GetAttr("private_ip"), nil
		}
		return pub, nil
	},
})
