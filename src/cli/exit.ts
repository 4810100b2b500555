/** The command's exit codes (DESIGN §4). */
export const EXIT = { ok: 0, failed: 1, usage: 2, checksum: 3, sigint: 130, sigterm: 143 } as const;
