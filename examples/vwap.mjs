// A user kernel: volume-weighted average price per side, from the ticks layout
// (ts:i64,price:f64,qty:i32,side:u8,…). Run:
//   bigproc run --file ticks.bin --schema 'ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16' --kernel examples/vwap.mjs
export function init() {
  return { pv: [0, 0], v: [0, 0] };
}

// view.column(name) gives a typed array of the field for the whole chunk: the fast way in.
export function chunk(view, state) {
  const price = view.column('price');
  const qty = view.column('qty');
  const side = view.column('side');
  for (let i = 0; i < view.length; i++) {
    const s = side[i] & 1;
    state.pv[s] += price[i] * qty[i];
    state.v[s] += qty[i];
  }
  return state;
}

// Partials are merged in file order, so the result is the same for any worker count.
export function merge(a, b) {
  return { pv: [a.pv[0] + b.pv[0], a.pv[1] + b.pv[1]], v: [a.v[0] + b.v[0], a.v[1] + b.v[1]] };
}

export function finalize(state) {
  return {
    vwap_side0: state.pv[0] / state.v[0],
    vwap_side1: state.pv[1] / state.v[1],
    volume: state.v[0] + state.v[1],
  };
}
