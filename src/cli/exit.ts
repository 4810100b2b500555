/** The command's exit codes (DESIGN §4; 4: `-o -` and the reader of stdout went away, as `| head` does). */
export const EXIT = { ok: 0, failed: 1, usage: 2, checksum: 3, outputClosed: 4, sigint: 130, sigterm: 143 } as const;

/**
 * Ends the process once stdout and stderr have taken everything written to them. Left to itself,
 * Node would also wait for V8 to finish optimising the wasm modules (undici's parser, xxhash) in
 * the background before exiting: ~90 ms of nothing after the file is already saved.
 */
export async function exitFlushed(code: number): Promise<never> {
  // A reader that went away (`-o - | head`) makes the flush fail with EPIPE: that is not news any more.
  await Promise.all(
    [process.stdout, process.stderr].map(
      (stream) =>
        new Promise<void>((resolve) => {
          stream.on('error', () => resolve());
          stream.write('', () => resolve());
        }),
    ),
  );
  process.exit(code);
}
