package fedgate

// demoPlaygroundQuery is the operation the playground shows on a first
// visit to `gateway demo`: one query that needs all four demo subgraphs.
const demoPlaygroundQuery = `# The fedgate demo: four subgraphs behind
# one gateway (products, inventory, reviews,
# accounts).
#
# Run this query: the play button, or
# Ctrl-Enter (Cmd-Enter on a Mac). The
# "Query plan" panel then shows the fetches
# the gateway made to each subgraph.
#
# Book icon: the docs. Clock: the history.
# Headers (below) takes JSON, for example
# {"Authorization": "Bearer <JWT>"}

query TopProducts {
  topProducts(first: 3) {
    upc
    name
    price
    inStock
    shippingEstimate
    reviews {
      body
      author {
        username
        name
      }
    }
  }
}
`
