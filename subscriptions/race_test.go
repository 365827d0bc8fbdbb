//go:build race

package subscriptions_test

// raceEnabled: the race detector multiplies memory, so the memory
// figures are not checked under it.
const raceEnabled = true
