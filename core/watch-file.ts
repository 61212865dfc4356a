// Noticing that a file the services depend on changed on disk (localconfig.json, cloudconfig.json):
// inotify on its folder, so that atomic renames are seen, debounced, and only the newest read reports.
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface FileWatcher {
  close(): void;
}

/**
 * Calls `onChange` with `read(path)` whenever the file changes. A read that fails goes to `onError`
 * (the caller keeps what it had); nothing reports after close().
 */
export function watchFile<T>(
  path: string,
  read: (path: string) => Promise<T>,
  onChange: (value: T) => void,
  onError: (err: unknown) => void,
  debounceMs = 50,
): FileWatcher {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let generation = 0;
  let closed = false;
  const reload = () => {
    timer = undefined;
    const mine = ++generation;
    const current = () => !closed && mine === generation;
    read(path).then(
      (value) => current() && onChange(value),
      (err: unknown) => current() && onError(err),
    );
  };
  const watcher: FSWatcher = watch(dirname(path), { persistent: false }, (_event, file) => {
    if (file !== null && file !== name) return;
    clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
  });
  watcher.on('error', onError);
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}
