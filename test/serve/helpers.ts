// Talking to a real `bigproc serve` process in tests: start it on 127.0.0.1 with port 0 (it prints its
// URL), plain HTTP requests, and a small Server-Sent Events reader. Every server started is stopped
// by stop(), and every wait is bounded.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { BIN } from '../cli/helpers.js';

export interface Served {
  url: string;
  pid: number;
  stderr(): string;
  stop(): Promise<number | null>;
}

export async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 20 s: ${stderr}`)), 20_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n')) {
        clearTimeout(timer);
        resolve(line!.trim());
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
}

export function get(url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {}, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 15 s`)));
    req.on('error', reject);
    req.end();
  });
}

export interface SseMessage {
  id: string | null;
  event: string;
  data: any;
  /** Date.now() when it arrived */
  at: number;
}

/** An open event stream: messages as they arrive; close() ends it. */
export interface SseStream {
  messages: SseMessage[];
  /** the next message satisfying pred (from those not yet waited for on), within ms */
  waitFor(pred: (m: SseMessage) => boolean, ms: number, what: string): Promise<SseMessage>;
  close(): void;
}

export function sse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const messages: SseMessage[] = [];
    let wake: (() => void) | null = null;
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream answered ${res.statusCode}`));
        res.resume();
        return;
      }
      let buf = '';
      let lastId: string | null = null;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) lastId = line.slice(4);
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length) messages.push({ id: lastId, event, data: JSON.parse(data.join('\n')), at: Date.now() });
          wake?.();
        }
      });
      let seen = 0;
      resolve({
        messages,
        async waitFor(pred, ms, what) {
          const until = Date.now() + ms;
          for (;;) {
            while (seen < messages.length) {
              const m = messages[seen++]!;
              if (pred(m)) return m;
            }
            const left = until - Date.now();
            if (left <= 0) throw new Error(`timed out waiting for ${what}`);
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, Math.min(left, 200));
            });
          }
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
    req.end();
  });
}
