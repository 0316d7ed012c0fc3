/** A set of listeners, for the change events of security/ (private to the folder). */

/** Subscribe with `add` (which returns the unsubscribe function); `emit` calls each once. */
export interface Listeners<T> {
  add(listener: (value: T) => void): () => void;
  emit(value: T): void;
  readonly size: number;
}

/** Creates an empty listener set. A throwing listener does not stop the others. */
export function createListeners<T>(onError: (error: unknown) => void): Listeners<T> {
  const listeners = new Set<(value: T) => void>();
  return {
    add(listener) {
      // Wrapped so the same function can subscribe twice and unsubscribe each separately.
      const entry = (value: T) => listener(value);
      listeners.add(entry);
      return () => void listeners.delete(entry);
    },
    emit(value) {
      for (const listener of [...listeners]) {
        try {
          listener(value);
        } catch (error) {
          onError(error);
        }
      }
    },
    get size() {
      return listeners.size;
    },
  };
}
