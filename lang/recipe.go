package lang

import (
	"io/fs"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclparse"
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

	// Modules are the root's module calls; each holds its own calls.
	// Their steps are in Steps, named by their address (Step.Module).
	Modules []*Module
	// Moved are the moved blocks of the recipe and its modules, with
	// addresses made absolute.
	Moved []*Moved

	Files map[string]*hcl.File // every parsed file, for diagnostics

	root    *namespace
	parser  *hclparse.Parser
	builtin fs.FS
	parsed  map[string]bool // files already parsed (a module called twice is parsed once)
	// modules counts the module instances loaded so far, against
	// MaxModules; tooMany is set once the bound is reported.
	modules int
	tooMany bool
	// steps counts the steps decoded so far, every module instance's
	// included, against MaxSteps; tooManySteps is set once the bound is
	// reported.
	steps        int
	tooManySteps bool
	// loaded counts the bytes of the files read so far against
	// MaxRecipeBytes; tooLarge is set once the bound is reported.
	loaded   int64
	tooLarge bool
	an       *analyzer
	// shell is the analysis of shell-read places (ShellFlow).
	shell *ShellFlow
	// readSteps names every step some expression reads (step.X, in any
	// namespace, through inputs, locals and outputs too).
	readSteps map[string]bool

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
	// Constraints are the declarative checks (min, max, one_of, format, ...).
	Constraints Constraints
	Validations []*Validation
	DeclRange   hcl.Range
}

// Validation is one `validation` block inside a variable. Its condition
// reads its own variable and, as Terraform 1.9's do, any other variable
// of the same recipe or module (Others): it is decided once all of them
// have values. What it reads orders what reads its variable (in a
// module: a step reading the input waits for what the others are made
// from), and is no part of the variable's value.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage string
	DeclRange    hcl.Range
	// Others are the other variables the condition reads, by name, in the
	// order written (declared or not: analysis reports those that are not).
	Others []string
}

// Local is one attribute of a `locals` block.
type Local struct {
	Module    *Module // nil at the root
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
	// ReplaceNote (replace_note) says what happens to the data when a
	// host of the group is replaced; the plan shows it. May be nil.
	ReplaceNote hcl.Expression
	DeclRange   hcl.Range
}

// VolumeDecl is a `volume` block inside a host group.
type VolumeDecl struct {
	Name      string
	SizeGB    hcl.Expression
	Type      hcl.Expression // may be nil
	DeclRange hcl.Range
}

// Ref names another step from `after` or `after_all`. Once loaded, Name
// is the step's full name (Step.Name); `module.X` in after is replaced by
// one Ref per step of the module.
type Ref struct {
	Name   string
	Range  hcl.Range
	Module bool   // as written: module.NAME, until resolved
	Attr   string // the attribute it is written in: after, restart_on, ...
}

// written is the reference as written: step.NAME or module.NAME.
func (r Ref) written() string {
	if r.Module {
		return "module." + r.Name
	}
	return "step." + r.Name
}

// Step is a `step` block. Exactly one of KindBody and Shorthand is set.
// A module's steps are flattened into the recipe: Name is then the step's
// address without "step." at the root ("module.data.step.format"),
// BaseName the name inside its module, and Module the module instance.
type Step struct {
	Name        string
	BaseName    string
	Module      *Module    // nil at the root
	onNS        *namespace // where On is evaluated: nil for the step's own namespace
	Description string
	Kind        string
	On          hcl.Expression
	After       []Ref
	AfterAll    []Ref
	RestartOn   []Ref // restart_on: steps whose change restarts this service (also in After)
	ReloadOn    []Ref // reload_on: steps whose change reloads it (also in After)
	// WhenReplaced (when_replaced) are the host groups whose replacement
	// runs this step; empty for an ordinary step (lang/replace.go).
	WhenReplaced []Ref
	KindBody     hcl.Body       // block form: format { ... }
	Shorthand    hcl.Expression // run = "..." or package = [...]
	Creates      hcl.Expression
	Unless       hcl.Expression
	Env          hcl.Expression
	Capture      hcl.Attributes
	Timeout      hcl.Expression
	Retries      hcl.Expression
	Sensitive    hcl.Expression
	Destroy      hcl.Expression
	// Drain (drain, on a replacement step) is run on the old machine of a
	// replaced host that still answers, before it is destroyed.
	Drain hcl.Expression
	// Preconditions are its precondition blocks, checked for each
	// instance before it runs (Precondition).
	Preconditions []*Precondition
	DeclRange     hcl.Range
	KindRange     hcl.Range

	// Filled by analysis: what the step's expressions read.
	OnGroups  []string // host groups `on` names (through module inputs too), sorted
	RefSteps  []Ref    // step.<name> read in an expression (waits for every instance)
	RefGroups []Ref    // hosts.<name> read outside `on` (waits for every launch of the group)
	UsesHost  bool     // reads `host`: arguments differ per instance
	// HostInputs: a module call around the step sets an input from
	// `host`. Its type, constraints and validations are decided for each
	// instance's host (they guard every step of the module), so each
	// instance is evaluated for its own host even when its arguments
	// read no such input (PerHost).
	HostInputs bool
	// UsesHostName: reads what identifies the host, known before it exists
	// (`host.name`, `host.index`, `host.hostname`, `host` whole), not only
	// what a launch tells (addresses, devices).
	UsesHostName bool
	// ReadsFacts: may read host facts (see readsFacts), itself or through
	// a local, a module input or a module's output it reads.
	ReadsFacts bool

	impliedOnce sync.Once
	implied     cty.Type
	// impliedNames are implied's attribute names, sorted.
	impliedNames []string
}

// Verify is a `verify` block: a round-trip check on the mounted filesystem
// (On and Path), or through an S3 API (S3; On and Path are then nil).
type Verify struct {
	// Name is the block's label in the root recipe; a module's verify
	// is named by its address, module.M.verify.LABEL.
	Name string
	// Module is the module instance that declares the block (nil: the
	// root recipe): its expressions read that module's var, local and
	// module, as its steps do.
	Module *Module
	On     hcl.Expression
	Path   hcl.Expression
	// Enabled is the optional `enabled` attribute (nil: always on): a
	// verify of an optional part (gateways off) is skipped when false.
	Enabled   hcl.Expression
	Failover  *Failover
	S3        *VerifyS3
	DeclRange hcl.Range
}

// VerifyS3 is a verify block's `s3` block: an object is put through the
// first endpoint and read back through every endpoint, signed with the keys.
type VerifyS3 struct {
	Endpoints hcl.Expression // list of URLs
	AccessKey hcl.Expression
	SecretKey hcl.Expression
	Region    hcl.Expression // nil: "us-east-1"
	Bucket    hcl.Expression // nil: a bucket made for the check and removed
}

// Exprs are the block's expressions (those set).
func (s *VerifyS3) Exprs() []hcl.Expression {
	out := []hcl.Expression{s.Endpoints, s.AccessKey, s.SecretKey}
	for _, e := range []hcl.Expression{s.Region, s.Bucket} {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// Failover stops a daemon on one host during verify and reads again.
type Failover struct {
	On    hcl.Expression
	Stop  hcl.Expression
	Start hcl.Expression
}

// Output is an `output` block.
type Output struct {
	// RefSteps and RefGroups are what the value reads, through locals
	// and modules too (filled by analysis).
	RefSteps    []Ref
	RefGroups   []Ref
	Name        string
	Value       hcl.Expression
	Sensitive   bool
	Description string
	DeclRange   hcl.Range
}

// Group returns the host group called name, or nil.
func (r *Recipe) Group(name string) *Group { return r.groupIdx[name] }

// Step returns the step called name (Step.Name), or nil.
func (r *Recipe) Step(name string) *Step { return r.stepIdx[name] }

// ReadsStep says whether any expression of the recipe or its modules
// reads step.NAME: only those steps need a value in scopes.
func (r *Recipe) ReadsStep(name string) bool { return r.readSteps[name] }

// Addr is the step's address without an instance key: step.x, or
// module.data.step.x for a module's step.
func (st *Step) Addr() string { return StepAddr(st.Name) }

// StepAddr is the address of the step called name (Step.Name).
func StepAddr(name string) string {
	if strings.HasPrefix(name, "module.") {
		return name
	}
	return "step." + name
}

// KindSpec returns the hcldec spec of a step kind.
func (r *Recipe) KindSpec(kind string) hcldec.Spec { return r.kinds[kind] }
