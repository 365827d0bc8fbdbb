// Package jsonvalue holds JSON documents as trees of values that one
// request parses once, merges in place and writes out again: the
// executor's form of subgraph answers.
//
// It differs from a general JSON library where the executor's work is:
//
//   - Strings are checked once, while parsing: a string whose text needs
//     no escaping in JSON (no quote, backslash or control character; most
//     of them) is marked plain and written out again as it is, without a
//     second scan. Escapes are decoded while parsing, never later.
//   - An object's members are kept in the order they came, with distinct
//     keys (a repeated key keeps its first value), so Field can look a key
//     up from a hint: callers that read the members in the order they
//     were written (a renderer following the selection the subgraph
//     answered) find each at the hint, without comparing other keys.
//   - A document can be parsed against a set of Keys (a query plan's):
//     its keys of the set are then the set's own strings, and the
//     lookups above find a member by comparing two pointers, not texts.
//   - Values, member lists and the copy of the input come from a Parser
//     whose memory is reused by the next document it parses, so a pooled
//     parser parses without allocating.
//
// Numbers keep their text as the document wrote it (checked against
// JSON's grammar), so huge numbers pass through unchanged.
package jsonvalue
