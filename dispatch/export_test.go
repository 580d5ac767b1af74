package dispatch

// MaxCallTime exposes maxCallTime to the external tests.
const MaxCallTime = maxCallTime
