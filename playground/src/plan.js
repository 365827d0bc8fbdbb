// Query plans as the gateway returns them in extensions.queryPlan (the JSON
// shape of Apollo Router's plans), printed as the text tree that
// `gateway plan` and Apollo's tools print.

/**
 * planLines turns a plan into lines of text, each {depth, text, kind,
 * service}: kind is the node kind that opens on the line (Sequence,
 * Parallel, Flatten, Fetch), "operation" for a subgraph operation,
 * "requires" for the representation selection, or "" for closing braces.
 */
export function planLines(plan) {
  const lines = [];
  const push = (depth, text, kind = '', service = '') => lines.push({ depth, text, kind, service });
  const node = (n, depth) => {
    if (!n) return;
    switch (n.kind) {
      case 'Sequence':
      case 'Parallel':
        push(depth, `${n.kind} {`, n.kind);
        for (const c of n.nodes || []) node(c, depth + 1);
        push(depth, '},');
        break;
      case 'Flatten': {
        const paths = n.paths && n.paths.length > 1 ? n.paths : [n.path || []];
        const head = paths.length > 1
          ? `Flatten(paths: [${paths.map((p) => JSON.stringify(p.join('.'))).join(', ')}]) {`
          : `Flatten(path: ${JSON.stringify(paths[0].join('.'))}) {`;
        push(depth, head, 'Flatten');
        node(n.node, depth + 1);
        push(depth, '},');
        break;
      }
      case 'Fetch':
        push(depth, `Fetch(service: ${JSON.stringify(n.serviceName)}) {`, 'Fetch', n.serviceName);
        if (n.requires && n.requires.length) {
          push(depth + 1, '{', 'requires');
          selections(n.requires, depth + 2);
          push(depth + 1, '} =>', 'requires');
        }
        // Variables filled from a context (@fromContext): where each is
        // read, per type that sets the context.
        for (const c of n.contextRewrites || []) {
          const of = c.fromEntity ? `context at ${c.typeCondition} or above` : `context of ${c.typeCondition}`;
          push(depth + 1, `$${c.variable}: ${c.type} <= ${of} {`, 'requires');
          for (const src of c.sources || []) {
            push(depth + 2, `... on ${src.typeCondition} {`, 'requires');
            selections(src.selections || [], depth + 3);
            push(depth + 2, '}', 'requires');
          }
          push(depth + 1, '}', 'requires');
        }
        for (const line of String(n.operation || '').split('\n')) push(depth + 1, line, 'operation', n.serviceName);
        push(depth, '},');
        break;
      case 'Defer': {
        // @defer: the primary part, then one deferred part per @defer
        // (id, path, label, parent @defer, the parts whose fetches it
        // waits for).
        push(depth, 'Defer {', 'Defer');
        push(depth + 1, 'Primary {', 'Defer');
        node(n.primary && n.primary.node, depth + 2);
        push(depth + 1, '}, [');
        for (const d of n.deferred || []) {
          let s = `${d.id} path: ${JSON.stringify(d.path)}`;
          if (d.label) s += ` label: ${JSON.stringify(d.label)}`;
          if (d.parent !== undefined && d.parent !== null) s += ` parent: ${d.parent}`;
          if (d.depends && d.depends.length) s += ` depends: [${d.depends.map((x) => x.id).join(', ')}]`;
          push(depth + 2, `Deferred(${s}) {`, 'Defer');
          node(d.node, depth + 3);
          push(depth + 2, '},');
        }
        push(depth + 1, ']');
        push(depth, '},');
        break;
      }
      default:
        push(depth, `${n.kind} { … }`, n.kind);
    }
  };
  const selections = (sels, depth) => {
    for (const s of sels) {
      if (s.kind === 'InlineFragment') {
        push(depth, `... on ${s.typeCondition} {`, 'requires');
        selections(s.selections || [], depth + 1);
        push(depth, '}', 'requires');
      } else if (s.selections && s.selections.length) {
        push(depth, `${s.name} {`, 'requires');
        selections(s.selections, depth + 1);
        push(depth, '}', 'requires');
      } else {
        push(depth, s.name, 'requires');
      }
    }
  };
  push(0, 'QueryPlan {', 'QueryPlan');
  node(plan && plan.node, 1);
  push(0, '}');
  return lines;
}

/** planText prints a plan as text, two spaces per level. */
export function planText(plan) {
  return planLines(plan).map((l) => '  '.repeat(l.depth) + l.text).join('\n') + '\n';
}

/**
 * planSummary counts a plan's fetches, the subgraphs they go to, and the
 * sequential steps (the longest chain of fetches that wait on each other).
 */
export function planSummary(plan) {
  const services = new Set();
  let fetches = 0;
  const depth = (n) => {
    if (!n) return 0;
    switch (n.kind) {
      case 'Fetch':
        fetches++;
        services.add(n.serviceName);
        return 1;
      case 'Flatten':
        return depth(n.node);
      case 'Sequence':
        return (n.nodes || []).reduce((sum, c) => sum + depth(c), 0);
      case 'Parallel':
        return (n.nodes || []).reduce((m, c) => Math.max(m, depth(c)), 0);
      case 'Defer':
        return depth(n.primary && n.primary.node) + (n.deferred || []).reduce((m, d) => Math.max(m, depth(d.node)), 0);
      default:
        return 0;
    }
  };
  const steps = depth(plan && plan.node);
  return { fetches, steps, services: [...services].sort() };
}
