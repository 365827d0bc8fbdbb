package reviews

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"

	"github.com/fedgate/gateway/subgraphs/demo/reviews/generated"
)

// feedBuffer is how many added reviews a subscriber may fall behind by;
// past it, reviews are dropped for that subscriber (demo semantics).
const feedBuffer = 64

// Feed hands reviews added with addReview (or Add) to the subscribers of
// reviewAdded. Each handler has its own feed, so the static tables every
// other field reads never change.
type Feed struct {
	mu   sync.Mutex
	subs map[*feedSub]struct{}
}

type feedSub struct {
	upc *string
	ch  chan *generated.Review
}

// NewFeed returns a feed without subscribers.
func NewFeed() *Feed { return &Feed{subs: map[*feedSub]struct{}{}} }

// Add creates a review and delivers it to the matching subscribers. The
// author and product must be known, the rating between 1 and 5.
func (f *Feed) Add(productUpc, authorID, body string, rating int) (*generated.Review, error) {
	if productByUPC(productUpc) == nil {
		return nil, fmt.Errorf("unknown product %q", productUpc)
	}
	if userByID(authorID) == nil {
		return nil, fmt.Errorf("unknown author %q", authorID)
	}
	if rating < 1 || rating > 5 {
		return nil, fmt.Errorf("rating %d is not between 1 and 5", rating)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// The id depends on the review only, so that gateways sent the same
	// mutation (the differential test's references) answer alike.
	h := fnv.New64a()
	for _, s := range []string{productUpc, authorID, body, strconv.Itoa(rating)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	rv := generated.Review{ID: "added-" + strconv.FormatUint(h.Sum64(), 36), Body: body, Rating: rating, AuthorID: authorID, ProductUpc: productUpc}
	for s := range f.subs {
		if s.upc != nil && *s.upc != productUpc {
			continue
		}
		c := rv
		select {
		case s.ch <- &c:
		default:
		}
	}
	return &rv, nil
}

// Subscribers is the number of reviewAdded streams open.
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// subscribe returns the stream of added reviews (of one product when upc
// is set) until ctx ends.
func (f *Feed) subscribe(ctx context.Context, upc *string) <-chan *generated.Review {
	s := &feedSub{upc: upc, ch: make(chan *generated.Review, feedBuffer)}
	f.mu.Lock()
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	out := make(chan *generated.Review)
	go func() {
		defer close(out)
		defer func() {
			f.mu.Lock()
			delete(f.subs, s)
			f.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case rv := <-s.ch:
				select {
				case out <- rv:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
