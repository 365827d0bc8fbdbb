// Package uploads carries file uploads of the GraphQL multipart request
// spec (operations, map, then the files) from a client to the subgraphs
// that take them, streaming: no whole file is ever held in memory.
//
// The design:
//
//   - Parse reads the parts in order: `operations` first, `map` second (the
//     spec's order; anything else is refused), each under a size cap. The
//     files stay unread in the client's body.
//   - Bind checks every map path against the operation's variables (it must
//     lead to a null) and puts a placeholder there, a string with a
//     per-request random nonce no client can forge, so that variable
//     coercion, planning and execution run unchanged.
//   - CheckTypes, once the operation is known, requires every path to end
//     at a custom scalar (Upload); Expect counts, from the plan, the fetches
//     that will send each file.
//   - Transport wraps the subgraph transport: a fetch whose variables hold
//     placeholders is sent as a multipart request of its own (operations
//     with nulls, a map, the files) through an io.Pipe, so a file goes from
//     the client's body to the subgraph while it is read.
//   - A file arrives in the client's order. When a fetch needs a file that
//     is further on, the files before it that another fetch still needs
//     are spooled to an unlinked temporary file (bounded by the total
//     limit) and read from there later; a file needed by several fetches
//     is teed to such a file while it streams to the first. Files nobody
//     needs are read and dropped. The spool bytes of all requests
//     together come from one SpoolBudget (max_spool_bytes), taken as they
//     are written, given back when the spool file is closed; past it the
//     request fails at once with 503 (CodeSpoolFull).
//   - Limits (Config): bytes per file, files, bytes in total, the time the
//     whole body may take and how long it may stall. A file over its limit
//     stops the reading at once: the subgraph's request is aborted
//     mid-body (it never sees a complete file), and the client gets 413
//     with extensions.code (Err).
package uploads
