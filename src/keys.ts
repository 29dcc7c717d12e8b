// Objects keyed by names a user chose (field names, sink names, option names). A plain `{}` has a
// prototype, so `obj["__proto__"] = v` replaces that prototype instead of adding a key (the field
// vanishes from the JSON) and `obj["constructor"]` finds Object before any key was set. Objects made
// here have no prototype: every name is an ordinary own key, and JSON.stringify prints them as usual.

/** An empty object with no prototype, for results and options keyed by user-chosen names. */
export function dict<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/** The value stored under `key` itself, never one inherited from Object.prototype. */
export function own<V>(obj: Record<string, V>, key: string): V | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
