package reviews

import "github.com/fedgate/gateway/subgraphs/demo/reviews/generated"

// reviews is the static review table, oldest first. Resolvers hand out copies.
var reviews = []generated.Review{
	{ID: "1", Body: "Sturdy and beautifully finished.", Rating: 5, AuthorID: "1", ProductUpc: "1"},
	{ID: "2", Body: "Too soft for long afternoons of proof reading.", Rating: 2, AuthorID: "2", ProductUpc: "2"},
	{ID: "3", Body: "Comfortable, and it does not wobble.", Rating: 4, AuthorID: "3", ProductUpc: "3"},
	{ID: "4", Body: "Bright enough to debug by.", Rating: 5, AuthorID: "3", ProductUpc: "4"},
	{ID: "5", Body: "A fine table for a difference engine.", Rating: 4, AuthorID: "2", ProductUpc: "1"},
	{ID: "6", Body: "The chair squeaks a little.", Rating: 3, AuthorID: "1", ProductUpc: "3"},
}

// users are the users reviews knows of. Their usernames are provided on
// Review.author and must equal the accounts subgraph's.
var users = []generated.User{
	{ID: "1", Username: "@ada"},
	{ID: "2", Username: "@alan"},
	{ID: "3", Username: "@grace"},
}

// productUPCs are the products reviews knows of; some have no reviews yet.
var productUPCs = []string{"1", "2", "3", "4", "5"}

// reviewByID returns a copy of the review with the given id, or nil.
func reviewByID(id string) *generated.Review {
	for _, r := range reviews {
		if r.ID == id {
			return &r
		}
	}
	return nil
}

// userByID returns a copy of the user with the given id, or nil.
func userByID(id string) *generated.User {
	for _, u := range users {
		if u.ID == id {
			return &u
		}
	}
	return nil
}

// productByUPC returns the product with the given upc, or nil.
func productByUPC(upc string) *generated.Product {
	for _, p := range productUPCs {
		if p == upc {
			return &generated.Product{Upc: upc}
		}
	}
	return nil
}

// reviewsWhere returns copies of the reviews that match keep, oldest first.
func reviewsWhere(keep func(generated.Review) bool) []*generated.Review {
	out := []*generated.Review{}
	for _, r := range reviews {
		if keep(r) {
			out = append(out, &r)
		}
	}
	return out
}
