// A user kernel whose state is more than a sum: the longest run of consecutive records with
// price above 110, and where it starts. Each chunk reports its own longest run plus the runs touching
// its edges, so merge() can join a run that crosses a chunk boundary. Run:
//   bigproc run --file ticks.bin --schema '…' --kernel examples/longest-run.mjs
export function init() {
  return { n: 0, head: 0, tail: 0, best: 0, bestStart: 0 };
}

export function chunk(view, state) {
  let run = 0;
  for (let i = 0; i < view.length; i++) {
    if (view.get(i, 'price') > 110) {
      run++;
      if (run > state.best) {
        state.best = run;
        state.bestStart = i - run + 1;
      }
    } else {
      run = 0;
    }
  }
  state.n = view.length;
  state.tail = run;
  let head = 0;
  while (head < view.length && view.get(head, 'price') > 110) head++;
  state.head = head;
  return state;
}

// a is everything before b; positions in b shift by a.n.
export function merge(a, b) {
  const m = {
    n: a.n + b.n,
    head: a.head === a.n ? a.n + b.head : a.head,
    tail: b.tail === b.n ? b.n + a.tail : b.tail,
    best: a.best,
    bestStart: a.bestStart,
  };
  if (b.best > m.best) {
    m.best = b.best;
    m.bestStart = a.n + b.bestStart;
  }
  const joined = a.tail + b.head;
  if (joined > m.best) {
    m.best = joined;
    m.bestStart = a.n - a.tail;
  }
  return m;
}

export function finalize(s) {
  return { longest_run: s.best, starts_at_record: s.best ? s.bestStart : null };
}
