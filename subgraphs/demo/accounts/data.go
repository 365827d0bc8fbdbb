package accounts

import "github.com/fedgate/gateway/subgraphs/demo/accounts/generated"

// meID is the id of the user that `me` returns.
const meID = "1"

// users is the static user table, ordered by id. Resolvers hand out copies.
var users = []generated.User{
	{ID: "1", Name: "Ada Lovelace", Username: "@ada", BirthYear: intPtr(1815)},
	{ID: "2", Name: "Alan Turing", Username: "@alan", BirthYear: intPtr(1912)},
	{ID: "3", Name: "Grace Hopper", Username: "@grace", BirthYear: intPtr(1906)},
}

func intPtr(v int) *int { return &v }

// userByID returns a copy of the user with the given id, or nil.
func userByID(id string) *generated.User {
	for _, u := range users {
		if u.ID == id {
			return cloneUser(u)
		}
	}
	return nil
}

func cloneUser(u generated.User) *generated.User {
	if u.BirthYear != nil {
		u.BirthYear = intPtr(*u.BirthYear)
	}
	return &u
}
