// A value that re-renders its readers when set (the language, the signed-in caller).
import { useEffect, useState } from "preact/hooks";

export type Signal<T> = { get(): T; set(v: T): void; use(): T };

export function signal<T>(initial: T): Signal<T> {
  let value = initial;
  const subs = new Set<(v: T) => void>();
  return {
    get: () => value,
    set(v: T) {
      value = v;
      subs.forEach((f) => f(v));
    },
    use() {
      const [v, setV] = useState(value);
      useEffect(() => {
        subs.add(setV);
        return () => {
          subs.delete(setV);
        };
      }, []);
      return v;
    },
  };
}
