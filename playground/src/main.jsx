// The gateway's playground: GraphiQL (docs explorer, history, headers
// editor) plus a "Query plan" panel that shows the plan the gateway used
// for the last operation run.
import './workers.js';
import React, { useState, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse, visit } from 'graphql';
import { HISTORY_PLUGIN } from '@graphiql/plugin-history';
import 'graphiql/style.css';
import './style.css';
import { planLines, planSummary, planText } from './plan.js';

// The GraphQL endpoint: the page's own path when it is served at a GraphQL
// path (GET /graphql from a browser), /graphql when it is served at /.
const ENDPOINT = location.pathname === '/' || location.pathname.startsWith('/playground/') ? '/graphql' : location.pathname;

// The header that asks the gateway to return its plan in extensions.
const PLAN_HEADER = 'Fedgate-Include-Plan';

// lastRun holds what the plan panel shows; GraphiQL's own store knows
// nothing of plans, so the fetcher publishes here.
const lastRun = {
  state: { status: 'idle' },
  listeners: new Set(),
  set(state) {
    this.state = state;
    for (const l of this.listeners) l();
  },
  subscribe: (l) => {
    lastRun.listeners.add(l);
    return () => lastRun.listeners.delete(l);
  },
  get: () => lastRun.state,
};

// fetcher runs queries and mutations over HTTP and subscriptions over
// GraphQL over SSE (distinct connections mode), as an async iterable of
// results that GraphiQL shows one after the other.
function fetcher(params, opts) {
  const op = operationOf(params);
  if (op && op.name && params.operationName && op.name.value !== params.operationName) {
    // GraphiQL can run a freshly typed one-operation document with the
    // previous document's operation name: run the one operation there is.
    params = { ...params, operationName: op.name.value };
  }
  if (op?.operation === 'subscription') return subscribe(params, opts);
  return op?.operation === 'query' && hasDefer(op) ? incremental(params, opts) : request(params, opts);
}

// hasDefer reports whether an operation uses @defer (fragments it spreads
// are not followed: the gateway answers one body when nothing is
// deferred, and incremental() reads that too).
function hasDefer(op) {
  let found = false;
  visit(op, { Directive: (d) => { if (d.name.value === 'defer') found = true; } });
  return found;
}

// incremental runs a query with @defer as multipart/mixed
// (deferSpec=20220824): each payload is yielded as it arrives, so the
// result pane shows the primary part first and merges each deferred part
// when it comes (GraphiQL merges payloads with hasNext). The plan comes in
// the first payload's extensions; the plan panel counts the parts.
//
// A payload with hasNext false ends the run at once (GraphiQL's run
// button comes back), and what is left of the body (the close delimiter)
// is read to its end in the background for up to drainMs(), so that a
// stream that finished is not aborted (Chromium reports an aborted fetch
// as failed, net::ERR_ABORTED): the fetch is aborted only when the run is
// stopped before its last payload or the body does not end in time.
async function* incremental(params, opts) {
  const abort = new AbortController();
  let reader;
  let ended = false; // the body was read to its end
  let last = false; // a payload said hasNext false
  try {
    const res = await fetch(ENDPOINT, {
      method: 'POST',
      headers: {
        Accept: 'multipart/mixed;deferSpec=20220824, application/graphql-response+json;q=0.9, application/json;q=0.8',
        'Content-Type': 'application/json',
        [PLAN_HEADER]: 'true',
        ...(opts && opts.headers),
      },
      body: JSON.stringify(params),
      credentials: 'same-origin',
      signal: abort.signal,
    });
    const type = res.headers.get('content-type') || '';
    const boundary = /boundary="?([^";]+)"?/i.exec(type);
    if (!type.startsWith('multipart/mixed') || !boundary) {
      const text = await res.text();
      ended = true;
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`HTTP ${res.status} ${res.statusText}: ${text.slice(0, 500)}`);
      }
      yield takePlan(body, params, res.status, 1);
      return;
    }
    const delimiter = `\r\n--${boundary[1]}`;
    reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let parts = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        return;
      }
      buf += value;
      for (;;) {
        const start = buf.indexOf(delimiter);
        if (start < 0) break;
        const next = buf.indexOf(delimiter, start + delimiter.length);
        if (next < 0) break;
        const part = buf.slice(start + delimiter.length, next);
        buf = buf.slice(next);
        const body = part.indexOf('\r\n\r\n');
        if (body < 0) continue;
        parts++;
        const payload = JSON.parse(part.slice(body + 4));
        last = payload.hasNext === false;
        yield parts === 1 ? takePlan(payload, params, res.status, parts) : (countPart(parts, payload.hasNext), payload);
        if (last) return;
      }
    }
  } finally {
    // The drain goes on after the run has ended: GraphiQL's for await
    // would otherwise wait for it.
    if (last && !ended) drain(reader, drainMs()).then((done) => done || abort.abort());
    else if (!ended) abort.abort();
  }
}

// DRAIN_MS bounds how long the rest of a finished multipart body is read.
const DRAIN_MS = 3000;

// drainMs is DRAIN_MS, or the page's fedgateDrainMs when that is a number
// of milliseconds (0 to 1 hour). The browser test sets it, so that its own
// pauses between a run's end and the body's end never race the bound, and
// so that it can watch the bound cut a stream that never ends.
function drainMs() {
  const ms = globalThis.fedgateDrainMs;
  return Number.isFinite(ms) && ms >= 0 && ms <= 3600000 ? ms : DRAIN_MS;
}

// drain reads a stream to its end and reports whether it ended within ms;
// a read that fails (the connection broke) counts as not ended.
async function drain(reader, ms) {
  let timer;
  const expired = new Promise((resolve) => {
    timer = setTimeout(resolve, ms, 'expired');
  });
  try {
    for (;;) {
      const r = await Promise.race([reader.read(), expired]);
      if (r === 'expired') return false;
      if (r.done) return true;
    }
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

// takePlan moves the plan of an answer's extensions to the plan panel.
function takePlan(body, params, httpStatus, parts) {
  const plan = body && body.extensions && body.extensions.queryPlan;
  if (plan) {
    const { queryPlan: _, ...rest } = body.extensions;
    if (Object.keys(rest).length) body.extensions = rest;
    else delete body.extensions;
  }
  lastRun.set({ status: plan ? 'plan' : 'none', plan, operationName: params.operationName || '', httpStatus, parts, hasNext: !!(body && body.hasNext) });
  return body;
}

// countPart tells the plan panel that another part arrived.
function countPart(parts, hasNext) {
  lastRun.set({ ...lastRun.state, parts, hasNext: !!hasNext });
}

// operationOf is the operation params select, or the only one.
function operationOf(params) {
  try {
    const doc = parse(params.query);
    return getOperationAST(doc, params.operationName || undefined) || getOperationAST(doc);
  } catch {
    return null;
  }
}

async function* subscribe(params, opts) {
  const abort = new AbortController();
  lastRun.set({ status: 'none', operationName: params.operationName || '', httpStatus: 200, subscription: true });
  try {
    const res = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json', ...(opts && opts.headers) },
      body: JSON.stringify(params),
      credentials: 'same-origin',
      signal: abort.signal,
    });
    if (!(res.headers.get('content-type') || '').startsWith('text/event-stream')) {
      const text = await res.text();
      try {
        yield JSON.parse(text);
      } catch {
        throw new Error(`HTTP ${res.status} ${res.statusText}: ${text.slice(0, 500)}`);
      }
      return;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let event = '';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (event === 'next' && data) yield JSON.parse(data);
        if (event === 'complete') return;
      }
    }
  } finally {
    // Stopping the subscription in GraphiQL ends the stream.
    abort.abort();
  }
}

async function request(params, opts) {
  const introspection = params.operationName === 'IntrospectionQuery';
  const headers = {
    Accept: 'application/graphql-response+json, application/json;q=0.9',
    'Content-Type': 'application/json',
    ...(introspection ? {} : { [PLAN_HEADER]: 'true' }),
    ...(opts && opts.headers),
  };
  const res = await fetch(ENDPOINT, {
    method: 'POST',
    headers,
    body: JSON.stringify(params),
    credentials: 'same-origin',
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status} ${res.statusText}: ${text.slice(0, 500)}`);
  }
  if (introspection) return body;
  const plan = body && body.extensions && body.extensions.queryPlan;
  if (plan) {
    // The plan has its own panel; the result pane keeps only the rest.
    const { queryPlan: _, ...rest } = body.extensions;
    if (Object.keys(rest).length) body.extensions = rest;
    else delete body.extensions;
  }
  lastRun.set({ status: plan ? 'plan' : 'none', plan, operationName: params.operationName || '', httpStatus: res.status });
  return body;
}

function PlanPanel() {
  const run = useSyncExternalStore(lastRun.subscribe, lastRun.get);
  const [asJSON, setAsJSON] = useState(false);
  const [copied, setCopied] = useState(false);
  let content;
  if (run.status === 'idle') {
    content = <p className="fedgate-plan-note">Run an operation to see the plan the gateway uses: which subgraphs it calls, in which order, and with what.</p>;
  } else if (run.status === 'none' && run.subscription) {
    content = (
      <p className="fedgate-plan-note">
        Subscriptions run over SSE, which returns no plan: <code>gateway plan</code> prints it (Subscription, Primary, Rest).
      </p>
    );
  } else if (run.status === 'none') {
    content = (
      <p className="fedgate-plan-note">
        The gateway returned no plan for the last request (HTTP {run.httpStatus}). It returns one when the request is valid and the gateway
        allows it: <code>gateway demo</code> does; <code>gateway serve</code> does when plans are exposed in its configuration.
      </p>
    );
  } else {
    const s = planSummary(run.plan);
    const copy = () => {
      const text = asJSON ? JSON.stringify(run.plan, null, 2) : planText(run.plan);
      navigator.clipboard?.writeText(text).then(() => {
        setCopied(true);
        setTimeout(() => setCopied(false), 1200);
      }, () => {});
    };
    content = (
      <>
        <p className="fedgate-plan-summary" data-testid="plan-summary">
          {s.fetches} {s.fetches === 1 ? 'fetch' : 'fetches'} to {s.services.length} {s.services.length === 1 ? 'subgraph' : 'subgraphs'}
          {' '}in {s.steps} {s.steps === 1 ? 'step' : 'sequential steps'}
          {s.services.length > 0 && <span className="fedgate-plan-services"> ({s.services.join(', ')})</span>}
        </p>
        {run.parts > 0 && (
          <p className="fedgate-plan-parts" data-testid="plan-parts">
            @defer: {run.parts} {run.parts === 1 ? 'part' : 'parts'} received{run.hasNext ? ', more to come' : ', complete'}
          </p>
        )}
        <div className="fedgate-plan-tools">
          <button type="button" className={asJSON ? '' : 'active'} onClick={() => setAsJSON(false)}>Tree</button>
          <button type="button" className={asJSON ? 'active' : ''} onClick={() => setAsJSON(true)}>JSON</button>
          <button type="button" onClick={copy}>{copied ? 'Copied' : 'Copy'}</button>
        </div>
        {asJSON ? (
          <pre className="fedgate-plan-json">{JSON.stringify(run.plan, null, 2)}</pre>
        ) : (
          <pre className="fedgate-plan-tree" data-testid="plan-tree">
            {planLines(run.plan).map((l, i) => (
              <div
                key={i}
                className={`fedgate-plan-line ${l.kind ? `kind-${l.kind}` : ''}`}
                style={{ paddingLeft: `${2 * l.depth + 2}ch` }}
                data-service={l.service || undefined}
              >
                {l.text}
              </div>
            ))}
          </pre>
        )}
      </>
    );
  }
  return (
    <section className="fedgate-plan" aria-label="Query plan">
      <div className="graphiql-doc-explorer-title">Query plan</div>
      {run.operationName && <p className="fedgate-plan-op">Operation: {run.operationName}</p>}
      {content}
    </section>
  );
}

function PlanIcon() {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <rect x="3" y="3" width="7" height="5" rx="1" />
      <rect x="14" y="9.5" width="7" height="5" rx="1" />
      <rect x="14" y="16" width="7" height="5" rx="1" />
      <path d="M6.5 8v4h7.5M6.5 12v6.5h7.5" />
    </svg>
  );
}

const PLAN_PLUGIN = { title: 'Query plan', icon: PlanIcon, content: PlanPanel };
// Passing plugins replaces GraphiQL's default list, so history is named too.
const PLUGINS = [HISTORY_PLUGIN, PLAN_PLUGIN];

const DEFAULT_QUERY = `# Welcome to the fedgate playground.
#
# Write an operation here and run it with Ctrl-Enter (Cmd-Enter on a Mac).
# The docs (book icon) list every type of the supergraph, the history
# keeps what you ran, and the headers tab below takes JSON headers, e.g.
#   { "Authorization": "Bearer <your JWT>" }
# The "Query plan" panel shows the subgraph fetches the gateway made.

query {
  __typename
}
`;

// The server may name a first operation (gateway demo does) in a meta
// element.
const serverQuery = document.querySelector('meta[name="fedgate-default-query"]')?.content;

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL
    fetcher={fetcher}
    plugins={PLUGINS}
    visiblePlugin={PLAN_PLUGIN}
    defaultQuery={serverQuery || DEFAULT_QUERY}
    defaultEditorToolsVisibility="headers"
    shouldPersistHeaders={false}
    showPersistHeadersSettings
  />,
);
