// Package compare holds what `diffuser compare` records and reads back:
// the Report (compare.json in the report directory: the parameters every
// recipe shared, the machine, and a Result per recipe with its times,
// throughput, small-file rates, per-client numbers, or where it failed),
// the command's recipe arguments (RECIPE or LABEL=RECIPE) and how its
// -var values and --servers reach each recipe.
//
// The comparison itself runs in workspace (Env.Compare), which deploys,
// measures through probe and destroys; views renders a Report as
// markdown, CSV and an HTML page. compare is a leaf: it imports nothing of
// diffuser, so both can use it.
package compare
