# Recipes that declared these steps themselves before this module held them.
moved {
  from = caller.step.banner
  to   = step.banner
}
moved {
  from = caller.step.refresher_unit
  to   = module.unit.step.unit
}
moved {
  from = caller.step.refresher
  to   = module.unit.step.service
}
