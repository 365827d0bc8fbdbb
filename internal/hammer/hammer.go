// Package hammer runs the load loops of the attack and resilience tests:
// a number of goroutines, each doing one thing again and again until the
// test says stop. The tests count what each round got; hammer only runs
// the rounds.
package hammer

import "sync"

// Run starts n goroutines; goroutine i calls round(i) again and again
// until stop is closed (checked before each round) or round returns false.
// The returned wait blocks until every goroutine has returned: close stop
// first, then call wait.
func Run(n int, stop <-chan struct{}, round func(i int) bool) (wait func()) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !round(i) {
					return
				}
			}
		}()
	}
	return wg.Wait
}
