package lang

import (
	"io/fs"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Recipe is a parsed recipe. Expressions stay unevaluated: Scope evaluates
// them once the values they read are known.
type Recipe struct {
	Name        string
	Description string
	Ports       []string // ports the filesystem uses, documented on cloud firewalls
	DeclRange   hcl.Range

	Variables []*Variable
	Locals    []*Local
	Groups    []*Group
	Steps     []*Step
	Verifies  []*Verify
	Outputs   []*Output
	// Preconditions are the recipe's and its host groups' precondition
	// blocks, in file order.
	Preconditions []*Precondition

	Files map[string]*hcl.File // every parsed file, for diagnostics

	fsys  fs.FS
	dir   string
	funcs map[string]function.Function
	kinds map[string]hcldec.Spec

	varIdx   map[string]*Variable
	localIdx map[string]*Local
	groupIdx map[string]*Group
	stepIdx  map[string]*Step
}

// Variable is a `variable` block.
type Variable struct {
	Name        string
	Type        cty.Type
	Default     cty.Value // cty.NilVal when there is none: the variable is required
	Description string
	Sensitive   bool
	Validations []*Validation
	DeclRange   hcl.Range
}

// Validation is one `validation` block inside a variable.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage string
	DeclRange    hcl.Range
}

// Local is one attribute of a `locals` block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range
}

// Group is a `hosts` block: Count hosts with the same role.
type Group struct {
	Name        string
	Count       hcl.Expression
	Description string
	Volumes     []*VolumeDecl
	DeclRange   hcl.Range
}

// VolumeDecl is a `volume` block inside a host group.
type VolumeDecl struct {
	Name      string
	SizeGB    hcl.Expression
	Type      hcl.Expression // may be nil
	DeclRange hcl.Range
}

// Ref names another step from `after` or `after_all`.
type Ref struct {
	Name  string
	Range hcl.Range
}

// Step is a `step` block. Exactly one of KindBody and Shorthand is set.
type Step struct {
	Name        string
	Description string
	Kind        string
	On          hcl.Expression
	After       []Ref
	AfterAll    []Ref
	RestartOn   []Ref          // restart_on: steps whose change restarts this service (also in After)
	ReloadOn    []Ref          // reload_on: steps whose change reloads it (also in After)
	KindBody    hcl.Body       // block form: format { ... }
	Shorthand   hcl.Expression // run = "..." or package = [...]
	Creates     hcl.Expression
	Unless      hcl.Expression
	Env         hcl.Expression
	Capture     hcl.Attributes
	Timeout     hcl.Expression
	Retries     hcl.Expression
	Sensitive   hcl.Expression
	Destroy     hcl.Expression
	DeclRange   hcl.Range
	KindRange   hcl.Range

	// Filled by analysis: what the step's expressions read.
	RefSteps  []Ref // step.<name> read in an expression (waits for every instance)
	RefGroups []Ref // hosts.<name> read outside `on` (waits for every launch of the group)
	UsesHost  bool  // reads `host`: arguments differ per instance
	// UsesHostName: reads what identifies the host, known before it exists
	// (`host.name`, `host.index`, `host.hostname`, `host` whole), not only
	// what a launch tells (addresses, devices).
	UsesHostName bool
	// ReadsFacts: may read host facts (see readsFacts).
	ReadsFacts bool

	impliedOnce sync.Once
	implied     cty.Type
	// impliedNames are implied's attribute names, sorted.
	impliedNames []string
}

// Verify is a `verify` block: a round-trip check on the mounted filesystem.
type Verify struct {
	Name      string
	On        hcl.Expression
	Path      hcl.Expression
	Failover  *Failover
	DeclRange hcl.Range
}

// Failover stops a daemon on one host during verify and reads again.
type Failover struct {
	On    hcl.Expression
	Stop  hcl.Expression
	Start hcl.Expression
}

// Output is an `output` block.
type Output struct {
	Name        string
	Value       hcl.Expression
	Sensitive   bool
	Description string
	DeclRange   hcl.Range
}

// Group returns the host group called name, or nil.
func (r *Recipe) Group(name string) *Group { return r.groupIdx[name] }

// Step returns the step called name, or nil.
func (r *Recipe) Step(name string) *Step { return r.stepIdx[name] }

// KindSpec returns the hcldec spec of a step kind.
func (r *Recipe) KindSpec(kind string) hcldec.Spec { return r.kinds[kind] }
