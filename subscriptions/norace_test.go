//go:build !race

package subscriptions_test

const raceEnabled = false
