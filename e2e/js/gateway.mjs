// startGateway runs `gateway demo` on a free loopback port and resolves to
// {url, stop} once it listens. The gateway picks the port (127.0.0.1:0)
// and logs it, so no two test runs race for one.
import { spawn } from 'node:child_process';

export function startGateway(bin, { timeoutMs = 30000, args = ['demo', '--listen', '127.0.0.1:0'] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let done = false;
    const stop = () =>
      new Promise((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      });
    const fail = (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stop().then(() => reject(new Error(`${err}\ngateway log:\n${log.slice(-4000)}`)));
    };
    const timer = setTimeout(() => fail(`gateway did not listen within ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk) => {
      log += chunk;
      // slog's text (addr=...) or JSON ("addr":"...") form.
      const m = /gateway listening.*?"?addr"?[=:]"?(127\.0\.0\.1:\d+)/.exec(log);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ origin: `http://${m[1]}`, url: `http://${m[1]}/graphql`, stop, log: () => log });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('error', (err) => fail(`cannot start ${bin}: ${err.message}`));
    child.on('exit', (code, sig) => fail(`gateway exited early (code ${code}, signal ${sig})`));
  });
}
