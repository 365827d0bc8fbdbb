package reviews

// This file will not be regenerated automatically.

// Resolver is the root resolver of the reviews subgraph. The static data
// lives in package-level tables that are never written; reviews added by
// the addReview mutation only pass through the resolver's feed.
type Resolver struct {
	feed *Feed
}
