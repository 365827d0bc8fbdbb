// Package corpus loads the hostile request corpus, shared/corpus/hostile.jsonl
// (see the README next to it), for the tests that replay it: limits,
// server/request and e2e.
//
// Load reads the file as a slice of Line, one a JSONL line, and skips the
// test when the file is not found. A Line knows the bytes it sends (Body),
// the GraphQL document it carries (Query) and the whole HTTP request it
// describes (NewRequest); Gen.Text and HeaderGen.Text expand the generators
// the corpus uses for big inputs.
package corpus
