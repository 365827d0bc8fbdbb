package difftest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fedgate/gateway/internal/fixturesub"
	"github.com/fedgate/gateway/schema"
)

// The reference gateways do not run contexts (Federation 2.8 @context /
// @fromContext): Apollo Gateway refuses the supergraph, Hive Gateway sends
// the field without its contextual argument. TestContexts checks fedgate's
// answers on the context fixtures against the fixture subgraph itself: a
// field with a contextual argument must be the subgraph's answer for the
// value of its nearest ancestor that sets the context, whatever the client
// aliases or selects next to it.

// subgraphAnswer asks the fixture subgraph graph of sg for field(args) of
// the entity typename with id, the way a gateway asks it.
func subgraphAnswer(t *testing.T, sg *schema.Supergraph, graph, typename, id, field, args string) string {
	t.Helper()
	q := `{_entities(representations:[{__typename:` + strconv.Quote(typename) + `,id:` + strconv.Quote(id) + `}]){...on ` + typename + `{` + field + `(` + args + `)}}}`
	body, _ := json.Marshal(map[string]any{"query": q})
	rec := httptest.NewRecorder()
	fixturesub.Handlers(sg)[graph].ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
	var out struct {
		Data struct {
			Entities []map[string]string `json:"_entities"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Data.Entities) != 1 {
		t.Fatalf("subgraph %s: %s: %s", graph, q, rec.Body)
	}
	return out.Data.Entities[0][field]
}

func askFedgate(t *testing.T, url, query string, into any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 || resp.StatusCode != 200 {
		t.Fatalf("%s: status %d, errors %v (%v)", query, resp.StatusCode, out.Errors, err)
	}
	if err := json.Unmarshal(out.Data, into); err != nil {
		t.Fatal(err)
	}
}

func loadFixture(t *testing.T, name string) (graphSource, *schema.Supergraph) {
	t.Helper()
	sdl, err := os.ReadFile(filepath.Join("..", "..", "testdata", "supergraphs", name+".graphql"))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	return graphSource{name: name, sdl: string(sdl)}, sg
}

func TestContexts(t *testing.T) {
	t.Run("one context type", func(t *testing.T) {
		src, sg := loadFixture(t, "context_basic")
		st, err := start(t, src)
		if err != nil {
			t.Fatal(err)
		}
		// The client's alias "locale" on name must not be read as the
		// context, nor the alias "__typename" on id as a type.
		type user struct {
			Locale string `json:"locale"`
			L      string `json:"l"`
			Posts  []struct {
				ID    string `json:"id"`
				Typ   string `json:"__typename"`
				T     string `json:"t"`
				Title string `json:"title"`
			} `json:"posts"`
		}
		var data map[string]json.RawMessage
		sel := `{ locale: name l: locale posts { id __typename: id t: title(upper: true) title } }`
		askFedgate(t, st.fedgate, `{ users `+sel+` u1: user(id: "1") `+sel+` u2: user(id: "2") `+sel+` u3: user(id: "3") `+sel+` u4: user(id: "4") `+sel+` }`, &data)
		var users []user
		for k, raw := range data {
			if k == "users" {
				var list []user
				_ = json.Unmarshal(raw, &list)
				users = append(users, list...)
				continue
			}
			var u *user
			_ = json.Unmarshal(raw, &u)
			if u != nil {
				users = append(users, *u)
			}
		}
		checked := 0
		for _, u := range users {
			for _, p := range u.Posts {
				if want := subgraphAnswer(t, sg, "b", "Post", p.ID, "title", "locale:"+strconv.Quote(u.L)+",upper:true"); p.T != want {
					t.Errorf("post %s under a user with locale %s: t = %q, want %q", p.ID, u.L, p.T, want)
				}
				if want := subgraphAnswer(t, sg, "b", "Post", p.ID, "title", "locale:"+strconv.Quote(u.L)); p.Title != want {
					t.Errorf("post %s under a user with locale %s: title = %q, want %q", p.ID, u.L, p.Title, want)
				}
				if p.Typ != p.ID {
					t.Errorf("post %s: __typename: id = %q", p.ID, p.Typ)
				}
				checked++
			}
		}
		if checked < 3 {
			t.Fatalf("only %d posts to check: %+v", checked, users)
		}
	})
	t.Run("nearest of several context types", func(t *testing.T) {
		src, sg := loadFixture(t, "context_multi")
		st, err := start(t, src)
		if err != nil {
			t.Fatal(err)
		}
		type book struct {
			ID    string `json:"id"`
			Label string `json:"label"`
		}
		var data struct {
			Shops []struct {
				Currency string `json:"currency"`
				Books    []book `json:"books"`
				Featured *struct {
					Lang  string `json:"lang"`
					Books []book `json:"books"`
				} `json:"featured"`
			} `json:"shops"`
			Libraries []struct {
				Lang  string `json:"lang"`
				Books []book `json:"books"`
			} `json:"libraries"`
		}
		askFedgate(t, st.fedgate, `{ shops { currency books { id label } featured { lang books { id label(short: true) } } } libraries { lang books { id label } } }`, &data)
		// Below an abstract position, each object's own owner holds its
		// context.
		var owners struct {
			Owners []struct {
				Lang     string `json:"lang"`
				Currency string `json:"currency"`
				Books    []book `json:"books"`
			} `json:"owners"`
		}
		askFedgate(t, st.fedgate, `{ owners { books { id label } ... on Library { lang } ... on Shop { currency } } }`, &owners)
		checked := 0
		check := func(b book, tag, args string) {
			t.Helper()
			if want := subgraphAnswer(t, sg, "b", "Book", b.ID, "label", "tag:"+strconv.Quote(tag)+args); b.Label != want {
				t.Errorf("book %s with tag %s: label = %q, want %q", b.ID, tag, b.Label, want)
			}
			checked++
		}
		for _, s := range data.Shops {
			for _, b := range s.Books {
				check(b, s.Currency, "")
			}
			if s.Featured != nil {
				for _, b := range s.Featured.Books {
					check(b, s.Featured.Lang, ",short:true")
				}
			}
		}
		for _, l := range data.Libraries {
			for _, b := range l.Books {
				check(b, l.Lang, "")
			}
		}
		kinds := map[bool]int{}
		for _, o := range owners.Owners {
			for _, b := range o.Books {
				check(b, o.Lang+o.Currency, "")
				kinds[o.Lang != ""]++
			}
		}
		if kinds[true] == 0 || kinds[false] == 0 {
			t.Errorf("owners' books: %d of libraries, %d of shops: the test needs both", kinds[true], kinds[false])
		}
		if checked < 3 {
			t.Fatalf("only %d books to check: %+v", checked, data)
		}
	})
}
